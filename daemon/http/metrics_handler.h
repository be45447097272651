#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include "daemon/reporters/metrics.h"
#include "storage/store.h"

namespace slipway {

// GET /metrics in the Prometheus text format. Reveals counts and durations only.
class MetricsHandler : public Poco::Net::HTTPRequestHandler {
public:
    MetricsHandler(const Metrics& metrics, Store& store);
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
    const Metrics& metrics_;
    Store& store_;
};

}  // namespace slipway
