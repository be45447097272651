#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <Poco/Net/HTTPRequestHandler.h>

#include "daemon/reporters/metrics.h"
#include "daemon/config/settings.h"
#include "storage/store.h"

namespace slipway {

// What the webhook endpoint needs from the configuration.
struct WebhookSettings {
    std::string secret;
    std::size_t maxBodyBytes = 0;
    std::vector<RepoSettings> repos;
    std::function<void()> jobsQueued;  // called after the commit, so that a worker picks the jobs up
    std::chrono::seconds readTimeout{10};  // for the whole body, however slowly it trickles
};

// POST /hooks/github and POST /ciserver/updates: verifies the signature,
// parses the event, records the delivery and its jobs in one transaction, and
// only then answers (see DESIGN.md for the status codes).
class WebhookHandler : public Poco::Net::HTTPRequestHandler {
public:
    WebhookHandler(const WebhookSettings& settings, Store& store, Metrics& metrics);
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
    const WebhookSettings& settings_;
    Store& store_;
    Metrics& metrics_;
};

}  // namespace slipway
