#include "daemon/request_router.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/health_handler.h"
#include "daemon/http_response.h"

namespace slipway {
namespace {

class NotFoundHandler : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        sendError(response, Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "not found", request.getURI().substr(0, request.getURI().find('?')));
    }
};

}  // namespace

RequestRouter::RequestRouter(const WebhookSettings& webhook, const std::string& apiToken, Store& store,
                             std::function<void()> jobsQueued, ApiHandler::LogPath logPath)
    : webhook_(webhook), apiToken_(apiToken), store_(store), jobsQueued_(std::move(jobsQueued)),
      logPath_(std::move(logPath)) {}

Poco::Net::HTTPRequestHandler* RequestRouter::createRequestHandler(const Poco::Net::HTTPServerRequest& request) {
    const std::string path = request.getURI().substr(0, request.getURI().find('?'));
    if (path == "/hooks/github" || path == "/ciserver/updates") {
        return new WebhookHandler(webhook_, store_, jobsQueued_);
    }
    if (path.rfind("/api/", 0) == 0) return new ApiHandler(apiToken_, store_, logPath_);
    if (path == "/healthz") return new HealthHandler;
    return new NotFoundHandler;
}

}  // namespace slipway
