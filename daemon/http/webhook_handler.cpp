#include "daemon/http/webhook_handler.h"

#include <Poco/Logger.h>

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
    AnswerHold hold = response.answerLater();
    // Written from another thread, after serve() may have returned: only a front door that holds answers allows it.
    if (!hold) {
        throw HttpError{Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal error",
                        "a webhook's answer needs a front door that holds answers"};
    }
    // From here the response is written by whichever thread `answered` runs on.
    intake_.accept(std::move(webhook), [this, &response, event = std::move(event),
                                        hold = std::move(hold)](WebhookAnswer answer) mutable {
        // Perhaps on the store's settling thread, which must not see an exception.
        try {
            if (answer.outcome) metrics_.webhookReceived(event, *answer.outcome);
            // After the commit, so that the worker finds the jobs.
            if (answer.jobsQueued) settings_.jobsQueued();
            sendJson(response, answer.status, answer.body);
        } catch (const std::exception& e) {
            try {
                Poco::Logger::get("slipway.webhook").error(std::string("cannot answer a webhook: ") + e.what());
            } catch (...) {
                // Out of memory: the front door's 500 says enough.
            }
        } catch (...) {
            // Not a std::exception: the front door answers 500 all the same.
        }
        hold.reset();  // the answer goes out now, or as soon as serve() has returned
    });
}

}  // namespace slipway
