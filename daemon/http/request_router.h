#pragma once

#include <memory>
#include <string>

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "backends/backend.h"
#include "daemon/github/delivery_intake.h"
#include "daemon/http/api_handler.h"
#include "daemon/http/route_table.h"
#include "daemon/http/webhook_handler.h"
#include "daemon/reporters/metrics.h"
#include "storage/store.h"

namespace slipway {

// The one route table of slipwayd (docs/architecture.md lists its paths), and
// what every route shares: paths under /api/ need the API token when one is
// set (checked before anything else, so an unauthorised client learns
// nothing of the paths), a path without a route is 404, a method the path
// does not take is 405 with every method it does take in Allow, an HttpError
// is answered as such and any other exception as 503 "store unavailable".
// Holds references only: everything it is given outlives the HTTP server.
class RequestRouter : public Poco::Net::HTTPRequestHandlerFactory {
public:
    RequestRouter(const WebhookSettings& webhook, const DeliveryIntake& intake, const ApiSettings& api,
                  const std::string& registryHost, Store& store, Backend& backend, Metrics& metrics);
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

    // Answers one request; what the handlers createRequestHandler returns call.
    void dispatch(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

private:
    const ApiSettings& api_;
    WebhookHandler webhook_;
    ApiHandler apiHandler_;
    RouteTable routes_;
};

}  // namespace slipway
