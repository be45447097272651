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

    // Empty when `answer` is what `method` on `path` (a template such as
    // /api/builds/{id}) promises; otherwise every difference, one per line.
    std::string check(const std::string& method, const std::string& path, const HttpAnswer& answer);

    // "METHOD path" of each operation the description has and check() never saw.
    std::vector<std::string> unchecked() const;

private:
    YAML::Node resolve(const YAML::Node& node) const;
    void validate(const YAML::Node& schema, const Poco::Dynamic::Var& value, const std::string& where,
                  std::string& problems) const;

    YAML::Node spec_;
    std::set<std::string> checked_;
};

}  // namespace slipway::testing
