#include "daemon/http/health_handler.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/http/http_response.h"

namespace slipway {

void HealthHandler::handleRequest(Poco::Net::HTTPServerRequest& /*request*/,
                                  Poco::Net::HTTPServerResponse& response) {
    Poco::JSON::Object body;
    body.set("status", "ok");
    sendJson(response, Poco::Net::HTTPResponse::HTTP_OK, body);
}

}  // namespace slipway
