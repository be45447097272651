#include "daemon/github/commit_status_client.h"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/NumberParser.h>
#include <Poco/StreamCopier.h>

namespace slipway {
namespace {

// The REST API version slipway is written against (GitHub's docs, "API versions").
constexpr const char* kApiVersion = "2022-11-28";

std::optional<std::int64_t> numberHeader(const Poco::Net::HTTPResponse& response, const std::string& name) {
    std::int64_t value = 0;
    if (!response.has(name) || !Poco::NumberParser::tryParse64(response.get(name), value)) return std::nullopt;
    return value;
}

// GitHub's error bodies are {"message": ..., "documentation_url": ...}.
std::string messageOf(const std::string& body) {
    try {
        Poco::JSON::Parser parser;
        Poco::JSON::Object::Ptr object = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
        return object ? object->optValue<std::string>("message", "") : "";
    } catch (const Poco::Exception&) {  // not JSON, or not an object
        return "";
    }
}

}  // namespace

GitHubStatusClient::GitHubStatusClient(const std::string& apiUrl, const std::string& caFile,
                                       std::chrono::seconds timeout)
    : api_(apiUrl),
      timeout_(timeout),
      context_(new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", caFile,
                                      Poco::Net::Context::VERIFY_STRICT, 9, /*loadDefaultCAs=*/true)) {}

StatusAnswer GitHubStatusClient::createStatus(const StatusRequest& request) {
    std::string path = api_.getPath();
    while (!path.empty() && path.back() == '/') path.pop_back();
    std::string owner, repo;
    const std::string::size_type slash = request.repository.find('/');
    Poco::URI::encode(request.repository.substr(0, slash), "/?#", owner);
    Poco::URI::encode(request.repository.substr(slash + 1), "/?#", repo);
    path += "/repos/" + owner + "/" + repo + "/statuses/" + request.sha;
    const std::string where = "POST " + api_.getScheme() + "://" + api_.getAuthority() + path;

    Poco::JSON::Object body;
    body.set("state", toString(request.state));
    body.set("context", request.context);
    body.set("description", request.description);
    if (!request.targetUrl.empty()) body.set("target_url", request.targetUrl);
    std::ostringstream json;
    body.stringify(json);

    try {
        Poco::Net::HTTPSClientSession session(api_.getHost(), api_.getPort(), context_);
        session.setTimeout(Poco::Timespan(static_cast<long>(timeout_.count()), 0));
        Poco::Net::HTTPRequest post(Poco::Net::HTTPRequest::HTTP_POST, path, Poco::Net::HTTPMessage::HTTP_1_1);
        post.set("Authorization", "Bearer " + request.token);
        post.set("Accept", "application/vnd.github+json");
        post.set("X-GitHub-Api-Version", kApiVersion);
        post.set("User-Agent", std::string("slipway/") + SLIPWAY_VERSION);
        post.setContentType("application/json");
        post.setContentLength(static_cast<std::streamsize>(json.str().size()));
        session.sendRequest(post) << json.str();
        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        std::string answer;
        Poco::StreamCopier::copyToString(in, answer);
        StatusAnswer result;
        result.status = static_cast<int>(response.getStatus());
        if (result.status >= 300) result.message = messageOf(answer);
        result.retryAfter = numberHeader(response, "Retry-After");
        result.remaining = numberHeader(response, "X-RateLimit-Remaining");
        result.resetAt = numberHeader(response, "X-RateLimit-Reset");
        return result;
    } catch (const Poco::Exception& e) {
        throw GitHubUnreachable(where + ": " + e.displayText());
    }
}

}  // namespace slipway
