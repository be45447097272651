#include "daemon/http/webhook_handler.h"

#include <algorithm>

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/github/delivery_plan.h"
#include "daemon/http/http_response.h"
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

// A body still arriving when its time is up.
struct TooSlow {};

// Reads the body of a request with a Content-Length, at most `limit` + 1
// bytes of it, so that a body longer than the limit is detected without
// holding more than the limit in memory. The socket's own timeout bounds each
// receive; `timeout` bounds them all, so that a client sending a byte now and
// then cannot hold a server thread: the time is checked after every receive
// (peek() makes at most one for such a body), not after a whole read.
std::string readBounded(std::istream& in, std::size_t limit, std::size_t length, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string body;
    body.reserve(std::min(length, limit) + 1);
    while (body.size() <= limit && in.peek() != std::char_traits<char>::eof()) {
        // What that receive brought (peek leaves at least one byte buffered),
        // straight into the body, without another receive.
        const std::size_t size = body.size();
        const auto available = static_cast<std::size_t>(std::max<std::streamsize>(in.rdbuf()->in_avail(), 1));
        body.resize(size + std::min(available, limit + 1 - size));
        const std::streamsize got = in.rdbuf()->sgetn(&body[size], static_cast<std::streamsize>(body.size() - size));
        body.resize(size + static_cast<std::size_t>(std::max<std::streamsize>(got, 0)));
        if (std::chrono::steady_clock::now() > deadline) throw TooSlow{};
    }
    // The socket's timeout (or a reset) ended the body before its end.
    if (in.bad()) throw TooSlow{};
    return body;
}

bool validDeliveryId(const std::string& id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
    }
    return true;
}

}  // namespace

WebhookHandler::WebhookHandler(const WebhookSettings& settings, Store& store, Metrics& metrics)
    : settings_(settings), store_(store), metrics_(metrics) {}

void WebhookHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                   Poco::Net::HTTPServerResponse& response) {
    if (request.getMethod() != "POST") {
        response.set("Allow", "POST");
        sendError(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method not allowed", "use POST");
        return;
    }
    // A chunked body's framing arrives a byte at a time, each byte a receive
    // that no deadline between receives could bound; GitHub always sends a length.
    if (!request.hasContentLength()) {
        response.setKeepAlive(false);
        sendError(response, HTTPResponse::HTTP_LENGTH_REQUIRED, "length required",
                  "a webhook must be sent with Content-Length, not chunked");
        return;
    }
    const std::string limit = std::to_string(settings_.maxBodyBytes) + " bytes";
    if (request.getContentLength64() > static_cast<Poco::Int64>(settings_.maxBodyBytes)) {
        response.setKeepAlive(false);
        sendError(response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "body too large", "limit is " + limit);
        return;
    }
    std::string body;
    try {
        body = readBounded(request.stream(), settings_.maxBodyBytes,
                           static_cast<std::size_t>(request.getContentLength64()), settings_.readTimeout);
    } catch (const TooSlow&) {
        response.setKeepAlive(false);
        sendError(response, HTTPResponse::HTTP_REQUEST_TIMEOUT, "request too slow",
                  "the body did not arrive within server.request_timeout");
        return;
    }
    if (body.size() > settings_.maxBodyBytes) {
        response.setKeepAlive(false);
        sendError(response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "body too large", "limit is " + limit);
        return;
    }
    // The client closed its side early. Said as such: its signature check
    // would fail, and send the operator after the secret.
    if (body.size() < static_cast<std::size_t>(request.getContentLength64())) {
        response.setKeepAlive(false);
        sendError(response, HTTPResponse::HTTP_BAD_REQUEST, "body cut short",
                  "the body ended after " + std::to_string(body.size()) + " of the " +
                      std::to_string(request.getContentLength64()) + " bytes its Content-Length announced");
        return;
    }

    const std::string signature = request.get("X-Hub-Signature-256", "");
    if (signature.empty()) {
        sendError(response, HTTPResponse::HTTP_UNAUTHORIZED, "missing signature",
                  "X-Hub-Signature-256 is required");
        return;
    }
    if (!verifySignature(settings_.secret, body, signature)) {
        logger().warning("refused a webhook from " + request.clientAddress().host().toString() +
                         ": X-Hub-Signature-256 does not match");
        sendError(response, HTTPResponse::HTTP_UNAUTHORIZED, "bad signature",
                  "X-Hub-Signature-256 does not match the body under the configured secret");
        return;
    }

    const std::string eventName = request.get("X-GitHub-Event", "");
    const std::string deliveryId = request.get("X-GitHub-Delivery", "");
    if (eventName.empty()) {
        sendError(response, HTTPResponse::HTTP_BAD_REQUEST, "missing header", "X-GitHub-Event is required");
        return;
    }
    if (!validDeliveryId(deliveryId)) {
        sendError(response, HTTPResponse::HTTP_BAD_REQUEST, "bad header",
                  "X-GitHub-Delivery must be 1 to 128 letters, digits, '-', '_' or '.'");
        return;
    }

    WebhookEvent event;
    try {
        event = parseWebhook(eventName, request.getContentType(), body);
    } catch (const WebhookError& e) {
        sendError(response, HTTPResponse::HTTP_BAD_REQUEST, "malformed " + eventName + " event", e.what());
        return;
    }
    const DeliveryPlan plan = planDelivery(event, settings_.repos);

    Delivery delivery;
    delivery.id = deliveryId;
    delivery.event = eventName;
    delivery.action = event.action;
    delivery.repo = plan.repoAlias;
    delivery.outcome = plan.outcome;
    delivery.detail = plan.detail;
    RecordedDelivery recorded;
    try {
        recorded = store_.recordDelivery(delivery, plan.jobs);
    } catch (const std::exception& e) {
        logger().error("delivery " + deliveryId + ": cannot record: " + e.what());
        sendError(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "cannot record the delivery",
                  "the database did not accept it; redeliver later");
        return;
    }

    Poco::JSON::Object answer;
    answer.set("delivery", deliveryId);
    const std::string outcome = recorded.duplicate ? "duplicate"
                                : !recorded.queued.empty() ? "queued"
                                : !recorded.pending.empty() ? "pending"
                                                            : plan.outcome;
    metrics_.webhookReceived(eventName, outcome);
    if (recorded.duplicate) {
        logger().information("delivery " + deliveryId + ": seen before, nothing queued");
        answer.set("outcome", "duplicate");
        sendJson(response, HTTPResponse::HTTP_OK, answer);
        return;
    }
    logger().information("delivery " + deliveryId + ": " + eventName +
                         (event.action.empty() ? "" : "/" + event.action) + " " + event.repo + ": " +
                         plan.outcome + (plan.detail.empty() ? "" : " (" + plan.detail + ")"));
    if (plan.unknownRepo) {
        sendError(response, HTTPResponse::HTTP_NOT_FOUND, "repository not configured", plan.detail);
        return;
    }
    Poco::JSON::Array::Ptr queued = new Poco::JSON::Array;
    for (std::int64_t id : recorded.queued) queued->add(id);
    Poco::JSON::Array::Ptr pending = new Poco::JSON::Array;
    for (std::int64_t id : recorded.pending) pending->add(id);
    answer.set("jobs", queued);
    if (!recorded.queued.empty()) {
        answer.set("outcome", "queued");
        settings_.jobsQueued();
        sendJson(response, HTTPResponse::HTTP_ACCEPTED, answer);
        return;
    }
    answer.set("outcome", outcome);
    answer.set("pending", pending);
    if (!plan.detail.empty()) answer.set("detail", plan.detail);
    sendJson(response, HTTPResponse::HTTP_OK, answer);
}

}  // namespace slipway
