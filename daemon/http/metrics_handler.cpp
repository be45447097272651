#include "daemon/http/metrics_handler.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/http/http_response.h"
#include "storage/records.h"

namespace slipway {

MetricsHandler::MetricsHandler(const Metrics& metrics, Store& store) : metrics_(metrics), store_(store) {}

void MetricsHandler::handleRequest(Poco::Net::HTTPServerRequest& /*request*/, Poco::Net::HTTPServerResponse& response) {
    std::string text;
    try {
        text = metrics_.render(store_.countJobs(RunState::Queued), store_.countBuilds(RunState::Running));
    } catch (const std::exception& e) {
        sendError(response, Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "store unavailable", e.what());
        return;
    }
    response.setContentType("text/plain; version=0.0.4; charset=utf-8");
    response.setContentLength64(static_cast<Poco::Int64>(text.size()));
    response.send() << text;
}

}  // namespace slipway
