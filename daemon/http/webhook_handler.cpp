#include "daemon/http/webhook_handler.h"

#include <algorithm>

#include "daemon/http/http_response.h"

namespace slipway {

WebhookHandler::WebhookHandler(const WebhookSettings& settings, const DeliveryIntake& intake, Metrics& metrics)
    : settings_(settings), intake_(intake), metrics_(metrics) {}

void WebhookHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const {
    WebhookRequest webhook;
    webhook.signature = request.get("X-Hub-Signature-256", "");
    webhook.event = request.get("X-GitHub-Event", "");
    webhook.deliveryId = request.get("X-GitHub-Delivery", "");
    webhook.contentType = request.getContentType();
    webhook.client = request.clientAddress().host().toString();
    // All of it is in memory, as long as its Content-Length says.
    webhook.body.resize(static_cast<std::size_t>(std::max<Poco::Int64>(request.getContentLength64(), 0)));
    request.stream().read(webhook.body.data(), static_cast<std::streamsize>(webhook.body.size()));
    webhook.body.resize(static_cast<std::size_t>(request.stream().gcount()));
    const WebhookAnswer answer = intake_.accept(webhook);
    if (answer.outcome) metrics_.webhookReceived(webhook.event, *answer.outcome);
    // After the commit, so that the worker finds the jobs.
    if (answer.jobsQueued) settings_.jobsQueued();
    sendJson(response, answer.status, answer.body);
}

}  // namespace slipway
