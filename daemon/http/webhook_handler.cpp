#include "daemon/http/webhook_handler.h"

#include "daemon/http/http_response.h"

namespace slipway {

WebhookHandler::WebhookHandler(const WebhookSettings& settings, const DeliveryIntake& intake, Metrics& metrics)
    : settings_(settings), intake_(intake), metrics_(metrics) {}

void WebhookHandler::serve(BufferedRequest& request, BufferedResponse& response) const {
    WebhookRequest webhook;
    webhook.signature = request.get("X-Hub-Signature-256", "");
    webhook.event = request.get("X-GitHub-Event", "");
    webhook.deliveryId = request.get("X-GitHub-Delivery", "");
    webhook.contentType = request.getContentType();
    webhook.client = request.clientAddress().host().toString();
    webhook.body = request.takeBody();  // all of it, as long as its Content-Length says
    std::string event = webhook.event;
    // From here the response is written by whichever thread `answered` runs on.
    intake_.accept(std::move(webhook), [this, &response, event = std::move(event),
                                        hold = response.answerLater()](WebhookAnswer answer) mutable {
        if (answer.outcome) metrics_.webhookReceived(event, *answer.outcome);
        // After the commit, so that the worker finds the jobs.
        if (answer.jobsQueued) settings_.jobsQueued();
        sendJson(response, answer.status, answer.body);
        hold.reset();  // the answer goes out now, or as soon as serve() has returned
    });
}

}  // namespace slipway
