#pragma once

#include <functional>

#include <Poco/Net/HTTPRequestHandler.h>

#include "daemon/http/front_door.h"
#include "daemon/reporters/metrics.h"
#include "storage/store.h"

namespace slipway {

// GET /metrics in the Prometheus text format. Reveals counts and durations
// only: the store's and the pipeline's (Metrics), and the front door's
// connections, open and closed by it, by why.
class MetricsHandler : public Poco::Net::HTTPRequestHandler {
public:
    MetricsHandler(const Metrics& metrics, Store& store, const std::function<FrontDoorCounts()>& connections);
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
    const Metrics& metrics_;
    Store& store_;
    const std::function<FrontDoorCounts()>& connections_;
};

}  // namespace slipway
