#include "daemon/http/http_response.h"

#include <sstream>

namespace slipway {

void sendJson(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
              const Poco::JSON::Object& body) {
    std::ostringstream text;
    body.stringify(text);
    text << "\n";
    const std::string payload = text.str();
    response.setStatusAndReason(status);
    response.setContentType("application/json");
    response.setContentLength64(static_cast<Poco::Int64>(payload.size()));
    response.send() << payload;
}

void sendError(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& error, const std::string& detail) {
    Poco::JSON::Object body;
    body.set("error", error);
    body.set("detail", detail);
    sendJson(response, status, body);
}

}  // namespace slipway
