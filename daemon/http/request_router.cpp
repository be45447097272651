#include "daemon/http/request_router.h"

#include <openssl/crypto.h>

#include "daemon/http/health_handler.h"
#include "daemon/http/http_response.h"
#include "daemon/http/metrics_handler.h"
#include "daemon/http/ready_handler.h"

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;

bool authorized(const std::string& token, const HTTPServerRequest& request) {
    if (token.empty()) return true;
    const std::string expected = "Bearer " + token;
    const std::string given = request.get("Authorization", "");
    return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

// The webhook routes' paths: their own body limit, and answered on the front door's loop.
bool isWebhookPath(const std::string& path) { return path == "/hooks/github" || path == "/ciserver/updates"; }

}  // namespace

RequestRouter::RequestRouter(const WebhookSettings& webhook, const DeliveryIntake& intake, const ApiSettings& api,
                             const std::string& registryHost, Store& store, Backend& backend,
                             const PlatformSupport& platforms, Metrics& metrics,
                             std::function<FrontDoorCounts()> connections)
    : api_(api),
      webhookSettings_(webhook),
      webhook_(webhook, intake, metrics),
      apiHandler_(api, store),
      readiness_(store, backend, platforms, registryHost),
      connections_(std::move(connections)),
      routes_({
          {"POST", "/hooks/github", [this](auto& rq, auto& rs, const PathIds&) { webhook_.serve(rq, rs); }},
          // The path of the course exercise slipway grew out of, kept for the hooks that still use it.
          {"POST", "/ciserver/updates", [this](auto& rq, auto& rs, const PathIds&) { webhook_.serve(rq, rs); }},
          {"GET", "/api/builds", [this](auto& rq, auto& rs, const PathIds&) { apiHandler_.listBuilds(rq, rs); }},
          {"POST", "/api/builds",
           [this](auto& rq, auto& rs, const PathIds&) {
               ApiHandler::refuseQuery(rq);
               apiHandler_.queueBuild(rq, rs);
           }},
          {"GET", "/api/builds/{id}",
           [this](auto& rq, auto& rs, const PathIds& ids) {
               ApiHandler::refuseQuery(rq);
               apiHandler_.showBuild(ids[0], rs);
           }},
          {"GET", "/api/builds/{id}/log",
           [this](auto& rq, auto& rs, const PathIds& ids) { apiHandler_.sendLog(ids[0], rq, rs); }},
          {"POST", "/api/builds/{id}/retry",
           [this](auto& rq, auto& rs, const PathIds& ids) {
               ApiHandler::refuseQuery(rq);
               apiHandler_.retryBuild(ids[0], rs);
           }},
          {"GET", "/api/jobs/{id}",
           [this](auto& rq, auto& rs, const PathIds& ids) {
               ApiHandler::refuseQuery(rq);
               apiHandler_.showJob(ids[0], rs);
           }},
          {"GET", "/api/deliveries",
           [this](auto& rq, auto& rs, const PathIds&) { apiHandler_.listDeliveries(rq, rs); }},
          // Probes answer any method: load balancers and monitors differ in what they send.
          {"", "/healthz", [](auto& rq, auto& rs, const PathIds&) { HealthHandler().handleRequest(rq, rs); }},
          {"", "/readyz", [this](auto&, auto& rs, const PathIds&) { readiness_.answer(rs); }},
          {"", "/metrics",
           [this, &metrics, &store](auto& rq, auto& rs, const PathIds&) {
               MetricsHandler(metrics, store, connections_).handleRequest(rq, rs);
           }},
      }) {}

std::size_t RequestRouter::bodyLimit(const std::string& /*method*/, const std::string& path) const {
    // Any method: the route table answers 405 to the others, after the body.
    if (isWebhookPath(path)) return webhookSettings_.maxBodyBytes;
    return ApiHandler::kMaxRequestBody;
}

bool RequestRouter::answeredWithoutWaiting(const std::string& method, const std::string& path) {
    return method == "POST" && isWebhookPath(path);
}

void RequestRouter::dispatch(BufferedRequest& request, BufferedResponse& response) const {
    const std::string path = request.getURI().substr(0, request.getURI().find('?'));
    const std::string& method = request.getMethod();
    try {
        if (path.rfind("/api/", 0) == 0) {
            if (!authorized(api_.token, request)) {
                response.set("WWW-Authenticate", "Bearer");
                throw HttpError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "send Authorization: Bearer <api token>"};
            }
        }
        const RouteMatch match = routes_.find(method, path);
        if (!match.route && match.allow.empty()) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "not found", path};
        if (!match.route) {
            response.set("Allow", match.allow);
            throw HttpError{HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method not allowed",
                            method + " " + path + ": use " + match.allow};
        }
        match.route->serve(request, response, match.ids);
    } catch (const HttpError& refused) {
        sendError(response, refused.status, refused.error, refused.detail);
    } catch (const std::exception& e) {
        // Mid-answer (a followed log, say) the client already has a status:
        // Poco closes the connection instead.
        if (response.sent()) throw;
        sendError(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "store unavailable", e.what());
    }
}

}  // namespace slipway
