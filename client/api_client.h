#pragma once

#include <ostream>
#include <stdexcept>
#include <string>

#include <Poco/JSON/Object.h>

namespace slipway::client {

// slipwayd answered with an error status; what() is its "error: detail".
class ApiError : public std::runtime_error {
public:
    ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

// slipwayd could not be reached at all.
class ConnectionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Talks to slipwayd's HTTP API at `baseUrl` (http or https), sending the bearer
// token when there is one.
class ApiClient {
public:
    ApiClient(std::string baseUrl, std::string token);

    // GET `path` and the JSON object it answers; throws ApiError or ConnectionError.
    Poco::JSON::Object::Ptr get(const std::string& path) const;

    // POST `body` (JSON) to `path`; returns the JSON answer.
    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& body) const;

    // GET `path` and copy the body to `out` as it arrives (a followed log).
    void stream(const std::string& path, std::ostream& out) const;

private:
    std::string baseUrl_;
    std::string token_;
};

}  // namespace slipway::client
