#pragma once

#include <chrono>
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

// slipwayd could not be reached, did not answer in time, or the connection broke.
class ConnectionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Talks to slipwayd's HTTP API at `baseUrl` (http or https), sending the bearer
// token when there is one. Connecting, and each wait for more of an answer,
// may take `timeout` at most (a followed log's body excepted).
class ApiClient {
public:
    ApiClient(std::string baseUrl, std::string token, std::chrono::seconds timeout = std::chrono::seconds(30));

    // GET `path` and the JSON object it answers; throws ApiError or ConnectionError.
    Poco::JSON::Object::Ptr get(const std::string& path) const;

    // POST `body` (JSON) to `path`; returns the JSON answer.
    Poco::JSON::Object::Ptr post(const std::string& path, const std::string& body) const;

    // GET `path` and copy the body to `out` as it arrives. With `unbounded`,
    // the body may pause for any time (a followed log is silent while its
    // build is); its head still comes within the timeout.
    void stream(const std::string& path, std::ostream& out, bool unbounded) const;

private:
    std::string baseUrl_;
    std::string token_;
    std::chrono::seconds timeout_;
};

}  // namespace slipway::client
