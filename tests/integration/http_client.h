#pragma once

#include <map>
#include <string>

#include <Poco/JSON/Object.h>

namespace slipway::testing {

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;

    // The body parsed as a JSON object; fails the test when it is not one.
    Poco::JSON::Object::Ptr json() const;
};

// One HTTP request to `url` (http:// or https://; for https, `caFile` is the
// only trusted authority). A "Transfer-Encoding: chunked" header sends the body
// in chunks instead of with a Content-Length. Only loopback addresses are used.
HttpAnswer httpRequest(const std::string& method, const std::string& url,
                       const std::map<std::string, std::string>& headers = {}, const std::string& body = "",
                       const std::string& caFile = "");

}  // namespace slipway::testing
