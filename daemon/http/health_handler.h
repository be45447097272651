#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

namespace slipway {

// GET /healthz: the process is up and its HTTP server answers.
class HealthHandler : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;
};

}  // namespace slipway
