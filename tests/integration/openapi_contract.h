#pragma once

#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tests/integration/http_client.h"

namespace slipway::testing {

// etc/openapi.yaml as a contract: checks real answers against the response the
// description promises (status, content type, JSON schema), and remembers
// which operations were checked so that a test can insist on all of them.
// Understands the part of OpenAPI 3.0 the description uses: $ref, type,
// nullable, required, properties, additionalProperties: false, items, enum,
// pattern, minimum, maximum and format: date-time.
class OpenApiContract {
public:
    explicit OpenApiContract(const std::string& specFile);

    // A contract of one operation of a JSON description too large to read
    // whole as YAML (GitHub's is 13 MB): the operation at `path` (a template)
    // and `method`, its references inlined.
    static OpenApiContract forOperation(const std::string& jsonFile, const std::string& path,
                                        const std::string& method);

    // Empty when a request of `method` to `actualPath` with `contentType` and
    // `body` is what the operation at `path` (a template) takes: its path
    // parameters and its JSON body; otherwise every difference, one per line.
    std::string checkRequest(const std::string& method, const std::string& path, const std::string& actualPath,
                             const std::string& contentType, const std::string& body);

    // The JSON body of the example the description gives for `status` of the
    // operation at `path` and `method` ("{}" when it gives none).
    std::string exampleAnswer(const std::string& method, const std::string& path, int status) const;

    // Empty when `answer` is what `method` on `path` (a template such as
    // /api/builds/{id}) promises; otherwise every difference, one per line.
    std::string check(const std::string& method, const std::string& path, const HttpAnswer& answer);

    // "METHOD path" of each operation the description has and check() never saw.
    std::vector<std::string> unchecked() const;

private:
    explicit OpenApiContract(YAML::Node spec) : spec_(std::move(spec)) {}
    YAML::Node resolve(const YAML::Node& node) const;
    void validate(const YAML::Node& schema, const Poco::Dynamic::Var& value, const std::string& where,
                  std::string& problems) const;

    YAML::Node spec_;
    std::set<std::string> checked_;
};

}  // namespace slipway::testing
