#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "daemon/github/delivery_intake.h"
#include "daemon/http/exchange.h"
#include "daemon/reporters/metrics.h"

namespace slipway {

// What the webhook endpoint needs from the configuration.
struct WebhookSettings {
    std::size_t maxBodyBytes = 0;       // the front door refuses a longer body (413) before reading it
    std::function<void()> jobsQueued;  // called after the commit, so that a worker picks the jobs up
};

// POST /hooks/github and POST /ciserver/updates: GitHub's rules
// (DeliveryIntake) on a body the front door read whole, framed by its
// Content-Length (a chunked one is refused there, 411: GitHub always sends a
// length), then the answer; counts what passed the signature check in the
// metrics.
class WebhookHandler {
public:
    WebhookHandler(const WebhookSettings& settings, const DeliveryIntake& intake, Metrics& metrics);
    // Answers once the delivery is recorded, from the store's settling thread:
    // the worker goes on to the next request meanwhile.
    void serve(BufferedRequest& request, BufferedResponse& response) const;

private:
    const WebhookSettings& settings_;
    const DeliveryIntake& intake_;
    Metrics& metrics_;
};

}  // namespace slipway
