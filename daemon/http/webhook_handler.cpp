#include "daemon/http/webhook_handler.h"

#include <algorithm>

#include "daemon/http/http_response.h"

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

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

FramedBody refused(HTTPResponse::HTTPStatus status, const std::string& error, const std::string& detail) {
    FramedBody framed;
    framed.refusal = refusal(status, error, detail);
    return framed;
}

}  // namespace

FramedBody readWebhookBody(std::optional<std::int64_t> contentLength, std::istream& in, std::size_t maxBodyBytes,
                           std::chrono::seconds timeout) {
    if (!contentLength) {
        return refused(HTTPResponse::HTTP_LENGTH_REQUIRED, "length required",
                       "a webhook must be sent with Content-Length, not chunked");
    }
    const std::string limit = "limit is " + std::to_string(maxBodyBytes) + " bytes";
    if (*contentLength > static_cast<std::int64_t>(maxBodyBytes)) {
        return refused(HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "body too large", limit);
    }
    const auto length = static_cast<std::size_t>(*contentLength);
    FramedBody framed;
    try {
        framed.body = readBounded(in, maxBodyBytes, length, timeout);
    } catch (const TooSlow&) {
        return refused(HTTPResponse::HTTP_REQUEST_TIMEOUT, "request too slow",
                       "the body did not arrive within server.request_timeout");
    }
    if (framed.body.size() > maxBodyBytes) {
        return refused(HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "body too large", limit);
    }
    if (framed.body.size() < length) {
        return refused(HTTPResponse::HTTP_BAD_REQUEST, "body cut short",
                       "the body ended after " + std::to_string(framed.body.size()) + " of the " +
                           std::to_string(length) + " bytes its Content-Length announced");
    }
    return framed;
}

WebhookHandler::WebhookHandler(const WebhookSettings& settings, const DeliveryIntake& intake, Metrics& metrics)
    : settings_(settings), intake_(intake), metrics_(metrics) {}

void WebhookHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const {
    const std::optional<std::int64_t> length =
        request.hasContentLength() ? std::optional<std::int64_t>(request.getContentLength64()) : std::nullopt;
    FramedBody framed = readWebhookBody(length, request.stream(), settings_.maxBodyBytes, settings_.readTimeout);
    if (framed.refusal) {
        response.setKeepAlive(false);
        sendJson(response, framed.refusal->status, framed.refusal->body);
        return;
    }
    WebhookRequest webhook;
    webhook.signature = request.get("X-Hub-Signature-256", "");
    webhook.event = request.get("X-GitHub-Event", "");
    webhook.deliveryId = request.get("X-GitHub-Delivery", "");
    webhook.contentType = request.getContentType();
    webhook.client = request.clientAddress().host().toString();
    webhook.body = std::move(framed.body);
    const WebhookAnswer answer = intake_.accept(webhook);
    if (answer.outcome) metrics_.webhookReceived(webhook.event, *answer.outcome);
    // After the commit, so that the worker finds the jobs.
    if (answer.jobsQueued) settings_.jobsQueued();
    sendJson(response, answer.status, answer.body);
}

}  // namespace slipway
