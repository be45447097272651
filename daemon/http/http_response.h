#pragma once

#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerResponse.h>

namespace slipway {

// A request that is not what it should be: thrown by an endpoint, answered by
// the router as {"error": error, "detail": detail} with `status`.
struct HttpError {
    Poco::Net::HTTPResponse::HTTPStatus status;
    std::string error;
    std::string detail;
};

// Sends `body` as application/json with `status`.
void sendJson(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
              const Poco::JSON::Object& body);

// Sends {"error": error, "detail": detail} with `status`.
void sendError(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& error, const std::string& detail = "");

}  // namespace slipway
