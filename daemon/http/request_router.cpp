#include "daemon/http/request_router.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/http/health_handler.h"
#include "daemon/http/http_response.h"
#include "daemon/http/metrics_handler.h"
#include "daemon/http/ready_handler.h"

namespace slipway {
namespace {

std::string pathOf(const Poco::Net::HTTPServerRequest& request) {
    return request.getURI().substr(0, request.getURI().find('?'));
}

class NotFoundHandler : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        sendError(response, Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "not found", pathOf(request));
    }
};

}  // namespace

RequestRouter::RequestRouter(const WebhookSettings& webhook, const ApiSettings& api, const std::string& registryHost,
                             Store& store, Backend& backend, Metrics& metrics)
    : webhook_(webhook), api_(api), registryHost_(registryHost), store_(store), backend_(backend), metrics_(metrics) {}

Poco::Net::HTTPRequestHandler* RequestRouter::createRequestHandler(const Poco::Net::HTTPServerRequest& request) {
    const std::string path = pathOf(request);
    if (path == "/hooks/github" || path == "/ciserver/updates") return new WebhookHandler(webhook_, store_, metrics_);
    if (path.rfind("/api/", 0) == 0) return new ApiHandler(api_, store_);
    if (path == "/healthz") return new HealthHandler;
    if (path == "/readyz") return new ReadyHandler(store_, backend_, registryHost_);
    if (path == "/metrics") return new MetricsHandler(metrics_, store_);
    return new NotFoundHandler;
}

}  // namespace slipway
