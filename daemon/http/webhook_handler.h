#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/github/delivery_intake.h"
#include "daemon/reporters/metrics.h"

namespace slipway {

// What the webhook endpoint needs from the configuration.
struct WebhookSettings {
    std::size_t maxBodyBytes = 0;
    std::function<void()> jobsQueued;      // called after the commit, so that a worker picks the jobs up
    std::chrono::seconds readTimeout{10};  // for the whole body, however slowly it trickles
};

// A webhook's body as the framing rules read it, or the answer that refuses
// the request; a refused request's connection is closed after the answer,
// since what is left of its body would be read as the next request.
struct FramedBody {
    std::string body;
    std::optional<WebhookAnswer> refusal;
};

// The framing rules of a webhook, before any of GitHub's: a Content-Length
// is required (411: a chunked body's framing arrives a byte at a time, each
// byte a receive no deadline could bound; GitHub always sends a length), a
// length or a body over `maxBodyBytes` is 413 without reading more than the
// limit, a body still arriving after `timeout` is 408, and one shorter than
// its Content-Length is 400 "body cut short" (not a bad signature, which
// would send the operator after the secret). Reads `in` only.
FramedBody readWebhookBody(std::optional<std::int64_t> contentLength, std::istream& in, std::size_t maxBodyBytes,
                           std::chrono::seconds timeout);

// POST /hooks/github and POST /ciserver/updates: the framing rules above,
// then GitHub's (DeliveryIntake), then the answer; counts what passed the
// signature check in the metrics.
class WebhookHandler {
public:
    WebhookHandler(const WebhookSettings& settings, const DeliveryIntake& intake, Metrics& metrics);
    void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

private:
    const WebhookSettings& settings_;
    const DeliveryIntake& intake_;
    Metrics& metrics_;
};

}  // namespace slipway
