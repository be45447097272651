#pragma once

#include <string>

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "backends/backend.h"
#include "daemon/http/api_handler.h"
#include "daemon/reporters/metrics.h"
#include "daemon/http/webhook_handler.h"
#include "storage/store.h"

namespace slipway {

// Maps each request path to its handler (the table in DESIGN.md). Holds
// references only: everything it hands out outlives the HTTP server.
class RequestRouter : public Poco::Net::HTTPRequestHandlerFactory {
public:
    RequestRouter(const WebhookSettings& webhook, const ApiSettings& api, const std::string& registryHost, Store& store,
                  Backend& backend, Metrics& metrics);
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
    const WebhookSettings& webhook_;
    const ApiSettings& api_;
    const std::string& registryHost_;
    Store& store_;
    Backend& backend_;
    Metrics& metrics_;
};

}  // namespace slipway
