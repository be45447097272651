#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPResponse.h>

#include "daemon/config/settings.h"
#include "storage/records.h"
#include "storage/store.h"

namespace slipway {

// A webhook as the front door read it: its whole body, already within the
// size limit and its Content-Length, and the headers GitHub's rules look at.
struct WebhookRequest {
    std::string signature;    // X-Hub-Signature-256
    std::string event;        // X-GitHub-Event
    std::string deliveryId;   // X-GitHub-Delivery
    std::string contentType;  // application/json or application/x-www-form-urlencoded
    std::string client;       // the sender's address, for the log
    std::string body;
};

// What to answer a webhook with.
struct WebhookAnswer {
    Poco::Net::HTTPResponse::HTTPStatus status = Poco::Net::HTTPResponse::HTTP_OK;
    // {"error", "detail"} for a refusal; {"delivery", "outcome", "jobs", ...} otherwise.
    Poco::JSON::Object body;
    // What the delivery led to, once the signature was good and it was read:
    // for the metrics. nullopt for a refusal before that.
    std::optional<DeliveryOutcome> outcome;
    // The delivery queued jobs: a worker should look.
    bool jobsQueued = false;
};

// Told once what to answer a webhook with.
using WebhookAnswered = std::function<void(WebhookAnswer answer)>;

// GitHub's rules for one webhook, in the order they apply: the signature
// under the secret (401), the event and delivery headers (400), the payload
// (400), the configured repositories (404 for an unknown one), then the
// delivery and its jobs recorded in one transaction before anything is
// answered (202 with the queued jobs; 200 for ping, a repeated delivery id,
// or an event that starts nothing; 503 when the store refuses the write).
// A function of the request alone, so each rule is unit-tested without a
// socket. Thread-safe; the only state it keeps between calls is when it last
// logged a refused signature.
class DeliveryIntake {
public:
    // `secret` and `repos` are read on every call; they and `store` outlive it.
    DeliveryIntake(const std::string& secret, const std::vector<RepoSettings>& repos, Store& store);

    // Applies the rules to `request` and tells `answered` what to answer,
    // once: before returning when the request is refused, or from the
    // store's settling thread once the delivery is recorded (or could not be).
    // The caller goes on meanwhile: it does not wait for the disk. Never
    // throws for what a sender can put in a request; `answered` must not
    // throw. Out of memory even for a refusal, `answered` is dropped uncalled.
    void accept(WebhookRequest request, WebhookAnswered answered) const;

private:
    // Whether to log a refused signature now, at most once a second;
    // `unlogged` is set to how many were refused unlogged since the last
    // line. A flood of them is the sender's to make, and each line is a
    // blocking write, on the front door's loop.
    bool logRefusalNow(std::size_t& unlogged) const;

    mutable std::mutex refusals_;
    mutable std::chrono::steady_clock::time_point refusalLogged_{};
    mutable std::size_t refusalsUnlogged_ = 0;
    const std::string& secret_;
    const std::vector<RepoSettings>& repos_;
    Store& store_;
};

// A refusal: {"error": error, "detail": detail} with `status`.
WebhookAnswer refusal(Poco::Net::HTTPResponse::HTTPStatus status, const std::string& error, const std::string& detail);

}  // namespace slipway
