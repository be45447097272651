#include "daemon/github/delivery_intake.h"

#include <cctype>

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include "daemon/github/delivery_plan.h"
#include "daemon/github/webhook_event.h"
#include "daemon/github/webhook_verifier.h"

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

// Looked up once: Logger::get takes a lock every request thread would queue on.
Poco::Logger& logger() {
    static Poco::Logger& logger = Poco::Logger::get("slipway.webhook");
    return logger;
}

bool validDeliveryId(const std::string& id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
    }
    return true;
}

Poco::JSON::Array::Ptr idArray(const std::vector<std::int64_t>& ids) {
    Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
    for (std::int64_t id : ids) array->add(id);
    return array;
}

// What to answer once `recorded` is what the store made of a delivery
// (the event and plan it was recorded with).
WebhookAnswer answerFor(const std::string& deliveryId, const std::string& eventName, const WebhookEvent& event,
                        const DeliveryPlan& plan, const RecordedDelivery& recorded) {
    WebhookAnswer answer;
    answer.body.set("delivery", deliveryId);
    answer.outcome = recorded.duplicate         ? DeliveryOutcome::Duplicate
                     : !recorded.queued.empty()  ? DeliveryOutcome::Queued
                     : !recorded.pending.empty() ? DeliveryOutcome::Pending
                                                 : plan.outcome;
    if (recorded.duplicate) {
        logger().information("delivery " + deliveryId + ": seen before, nothing queued");
        answer.body.set("outcome", toString(DeliveryOutcome::Duplicate));
        return answer;
    }
    logger().information("delivery " + deliveryId + ": " + eventName +
                         (event.action.empty() ? "" : "/" + event.action) + " " + event.repo + ": " +
                         toString(plan.outcome) + (plan.detail.empty() ? "" : " (" + plan.detail + ")"));
    if (plan.unknownRepo) {
        WebhookAnswer unknown = refusal(HTTPResponse::HTTP_NOT_FOUND, "repository not configured", plan.detail);
        unknown.outcome = answer.outcome;
        return unknown;
    }
    answer.body.set("jobs", idArray(recorded.queued));
    if (!recorded.queued.empty()) {
        answer.status = HTTPResponse::HTTP_ACCEPTED;
        answer.body.set("outcome", toString(DeliveryOutcome::Queued));
        answer.jobsQueued = true;
        return answer;
    }
    answer.body.set("outcome", toString(*answer.outcome));
    answer.body.set("pending", idArray(recorded.pending));
    if (!plan.detail.empty()) answer.body.set("detail", plan.detail);
    return answer;
}

WebhookAnswer cannotRecord(const std::string& deliveryId, const std::string& why) {
    logger().error("delivery " + deliveryId + ": cannot record: " + why);
    return refusal(HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "cannot record the delivery",
                   "the database did not accept it; redeliver later");
}

}  // namespace

WebhookAnswer refusal(HTTPResponse::HTTPStatus status, const std::string& error, const std::string& detail) {
    WebhookAnswer answer;
    answer.status = status;
    answer.body.set("error", error);
    answer.body.set("detail", detail);
    return answer;
}

DeliveryIntake::DeliveryIntake(const std::string& secret, const std::vector<RepoSettings>& repos, Store& store)
    : secret_(secret), repos_(repos), store_(store) {}

bool DeliveryIntake::logRefusalNow(std::size_t& unlogged) const {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(refusals_);
    if (refusalLogged_ != std::chrono::steady_clock::time_point{} && now - refusalLogged_ < std::chrono::seconds(1)) {
        ++refusalsUnlogged_;
        return false;
    }
    refusalLogged_ = now;
    unlogged = refusalsUnlogged_;
    refusalsUnlogged_ = 0;
    return true;
}

void DeliveryIntake::accept(WebhookRequest request, WebhookAnswered answered) const {
    if (request.signature.empty()) {
        answered(refusal(HTTPResponse::HTTP_UNAUTHORIZED, "missing signature", "X-Hub-Signature-256 is required"));
        return;
    }
    if (!verifySignature(secret_, request.body, request.signature)) {
        std::size_t unlogged = 0;
        if (logRefusalNow(unlogged)) {
            logger().warning("refused a webhook from " + request.client + ": X-Hub-Signature-256 does not match" +
                             (unlogged == 0 ? "" : " (and " + std::to_string(unlogged) +
                                                       " other webhooks since the last such line)"));
        }
        answered(refusal(HTTPResponse::HTTP_UNAUTHORIZED, "bad signature",
                         "X-Hub-Signature-256 does not match the body under the configured secret"));
        return;
    }
    if (request.event.empty()) {
        answered(refusal(HTTPResponse::HTTP_BAD_REQUEST, "missing header", "X-GitHub-Event is required"));
        return;
    }
    if (!validDeliveryId(request.deliveryId)) {
        answered(refusal(HTTPResponse::HTTP_BAD_REQUEST, "bad header",
                         "X-GitHub-Delivery must be 1 to 128 letters, digits, '-', '_' or '.'"));
        return;
    }

    WebhookEvent event;
    try {
        event = parseWebhook(request.event, request.contentType, std::move(request.body));
    } catch (const WebhookError& e) {
        answered(refusal(HTTPResponse::HTTP_BAD_REQUEST, "malformed " + request.event + " event", e.what()));
        return;
    }
    DeliveryPlan plan = planDelivery(event, repos_);
    Delivery delivery{request.deliveryId, request.event, event.action, plan.repoAlias, plan.outcome, plan.detail,
                      {}, {}, {}};
    std::vector<JobRequest> jobs = std::move(plan.jobs);
    try {
        store_.recordDelivery(
            std::move(delivery), std::move(jobs),
            [answered, id = request.deliveryId, name = request.event, event = std::move(event),
             plan = std::move(plan)](RecordedDelivery recorded, std::exception_ptr failure) {
                // On the store's settling thread, which must not see an exception.
                WebhookAnswer answer;
                try {
                    try {
                        if (failure) std::rethrow_exception(failure);
                        answer = answerFor(id, name, event, plan, recorded);
                    } catch (const std::exception& e) {
                        answer = cannotRecord(id, e.what());
                    } catch (...) {
                        answer = cannotRecord(id, "an error that is not a std::exception");
                    }
                } catch (...) {
                    return;  // out of memory even for a refusal: see accept()
                }
                answered(std::move(answer));
            });
    } catch (const std::exception& e) {
        // Not queued (out of memory): nothing will call back.
        answered(cannotRecord(request.deliveryId, e.what()));
    }
}

}  // namespace slipway
