#include "daemon/api_handler.h"

#include <openssl/crypto.h>

#include <fstream>
#include <regex>

#include <Poco/JSON/Array.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/NumberParser.h>
#include <Poco/StreamCopier.h>

#include "daemon/http_response.h"
#include "daemon/record_json.h"

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

// A query parameter that is not what it should be; becomes a 400.
struct BadParameter {
    std::string name;
    std::string reason;
};

bool authorized(const std::string& token, const Poco::Net::HTTPServerRequest& request) {
    if (token.empty()) return true;
    const std::string expected = "Bearer " + token;
    const std::string given = request.get("Authorization", "");
    return given.size() == expected.size() &&
           CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

// The integer parameter `name` within [min, max], or `fallback` when absent.
std::int64_t integerParameter(const Poco::Net::HTMLForm& query, const std::string& name,
                              std::int64_t fallback, std::int64_t min, std::int64_t max) {
    if (!query.has(name)) return fallback;
    Poco::Int64 value = 0;
    if (!Poco::NumberParser::tryParse64(query.get(name), value) || value < min || value > max) {
        throw BadParameter{name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max)};
    }
    return value;
}

}  // namespace

ApiHandler::ApiHandler(const std::string& token, Store& store, LogPath logPath)
    : token_(token), store_(store), logPath_(std::move(logPath)) {}

void ApiHandler::handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    if (!authorized(token_, request)) {
        response.set("WWW-Authenticate", "Bearer");
        sendError(response, HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized",
                  "send Authorization: Bearer <api token>");
        return;
    }
    if (request.getMethod() != "GET") {
        response.set("Allow", "GET");
        sendError(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method not allowed", request.getMethod());
        return;
    }
    const std::string path = request.getURI().substr(0, request.getURI().find('?'));
    static const std::regex build("/api/builds/([0-9]{1,18})");
    static const std::regex buildLog("/api/builds/([0-9]{1,18})/log");
    static const std::regex job("/api/jobs/([0-9]{1,18})");
    std::smatch match;
    try {
        if (path == "/api/builds") return listBuilds(request, response);
        if (path == "/api/deliveries") return listDeliveries(request, response);
        if (std::regex_match(path, match, build)) return showBuild(std::stoll(match[1]), response);
        if (std::regex_match(path, match, buildLog)) return sendLog(std::stoll(match[1]), response);
        if (std::regex_match(path, match, job)) return showJob(std::stoll(match[1]), response);
    } catch (const BadParameter& bad) {
        sendError(response, HTTPResponse::HTTP_BAD_REQUEST, "bad parameter " + bad.name, bad.reason);
        return;
    }
    sendError(response, HTTPResponse::HTTP_NOT_FOUND, "not found", path);
}

void ApiHandler::listBuilds(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    const Poco::Net::HTMLForm query(request);
    const auto limit = static_cast<int>(integerParameter(query, "limit", 50, 1, 500));
    const std::int64_t before = integerParameter(query, "before", 0, 1, INT64_MAX);
    const std::vector<Build> builds = store_.recentBuilds(limit, before);
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    for (const Build& b : builds) items->add(buildToJson(b));
    Poco::JSON::Object body;
    body.set("builds", items);
    if (static_cast<int>(builds.size()) == limit) {
        body.set("next", builds.back().id);
    } else {
        body.set("next", Poco::Dynamic::Var());
    }
    sendJson(response, HTTPResponse::HTTP_OK, body);
}

void ApiHandler::showBuild(std::int64_t id, Poco::Net::HTTPServerResponse& response) {
    const std::optional<Build> build = store_.build(id);
    if (!build) return sendError(response, HTTPResponse::HTTP_NOT_FOUND, "no such build", std::to_string(id));
    sendJson(response, HTTPResponse::HTTP_OK, *buildToJson(*build));
}

void ApiHandler::sendLog(std::int64_t id, Poco::Net::HTTPServerResponse& response) {
    if (!store_.build(id)) return sendError(response, HTTPResponse::HTTP_NOT_FOUND, "no such build", std::to_string(id));
    std::ifstream log(logPath_(id), std::ios::binary);
    response.setContentType("text/plain; charset=utf-8");
    response.setChunkedTransferEncoding(true);
    std::ostream& out = response.send();
    if (log) Poco::StreamCopier::copyStream(log, out);
}

void ApiHandler::showJob(std::int64_t id, Poco::Net::HTTPServerResponse& response) {
    const std::optional<Job> job = store_.job(id);
    if (!job) return sendError(response, HTTPResponse::HTTP_NOT_FOUND, "no such job", std::to_string(id));
    Poco::JSON::Object::Ptr body = jobToJson(*job);
    Poco::JSON::Array::Ptr builds = new Poco::JSON::Array;
    for (const Build& b : store_.buildsOfJob(id)) builds->add(buildToJson(b));
    body->set("builds", builds);
    sendJson(response, HTTPResponse::HTTP_OK, *body);
}

void ApiHandler::listDeliveries(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    const Poco::Net::HTMLForm query(request);
    const auto limit = static_cast<int>(integerParameter(query, "limit", 50, 1, 500));
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    for (const Delivery& d : store_.recentDeliveries(limit)) items->add(deliveryToJson(d));
    Poco::JSON::Object body;
    body.set("deliveries", items);
    sendJson(response, HTTPResponse::HTTP_OK, body);
}

}  // namespace slipway
