#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "backends/backend.h"
#include "daemon/github/delivery_intake.h"
#include "daemon/http/api_handler.h"
#include "daemon/http/front_door.h"
#include "daemon/http/ready_handler.h"
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
class RequestRouter {
public:
    // `connections`: the front door's counts, for /metrics.
    RequestRouter(const WebhookSettings& webhook, const DeliveryIntake& intake, const ApiSettings& api,
                  const std::string& registryHost, Store& store, Backend& backend,
                  const PlatformSupport& platforms, Metrics& metrics, std::function<FrontDoorCounts()> connections);

    // Answers one request the front door has read whole.
    void dispatch(BufferedRequest& request, BufferedResponse& response) const;

    // The largest body a request to `path` may have, for the front door to
    // refuse a longer one before reading it: a webhook's is
    // webhook.max_body_bytes, every other route's 64 KiB.
    std::size_t bodyLimit(const std::string& method, const std::string& path) const;

    // Whether a request to `path` has a handler that never waits, for the
    // front door to answer it on its loop: a webhook, whose commit is the
    // store's threads' (its answer is held until then, see answerLater).
    static bool answeredWithoutWaiting(const std::string& method, const std::string& path);

private:
    const ApiSettings& api_;
    const WebhookSettings& webhookSettings_;
    WebhookHandler webhook_;
    ApiHandler apiHandler_;
    ReadinessProbes readiness_;
    std::function<FrontDoorCounts()> connections_;
    RouteTable routes_;
};

}  // namespace slipway
