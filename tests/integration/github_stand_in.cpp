#include "tests/integration/github_stand_in.h"

#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "daemon/http/tls_context.h"
#include "tests/integration/integration_environment.h"

namespace slipway::testing {
namespace {

constexpr const char* kOperation = "/repos/{owner}/{repo}/statuses/{sha}";

// What GitHub's REST API documentation asks of every request beyond the
// description: empty when `request` does it.
std::string headerProblems(const Poco::Net::HTTPServerRequest& request) {
    std::string problems;
    const std::string authorization = request.get("Authorization", "");
    if (authorization.rfind("Bearer ", 0) != 0 && authorization.rfind("token ", 0) != 0) {
        problems += "Authorization is not 'Bearer <token>'\n";
    }
    if (request.get("Accept", "") != "application/vnd.github+json") {
        problems += "Accept is '" + request.get("Accept", "") + "', not application/vnd.github+json\n";
    }
    if (request.get("X-GitHub-Api-Version", "") != "2022-11-28") {
        problems += "X-GitHub-Api-Version is '" + request.get("X-GitHub-Api-Version", "") + "', not 2022-11-28\n";
    }
    if (request.get("User-Agent", "").empty()) problems += "no User-Agent (GitHub refuses such requests)\n";
    return problems;
}

// The number of UTF-8 characters in `text`.
std::size_t characters(const std::string& text) {
    std::size_t count = 0;
    for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return count;
}

}  // namespace

class GitHubStandIn::Handler : public Poco::Net::HTTPRequestHandler {
public:
    explicit Handler(GitHubStandIn& owner) : owner_(owner) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        std::string body;
        Poco::StreamCopier::copyToString(request.stream(), body);
        ReceivedStatus received;
        received.at = std::chrono::system_clock::now();
        received.authorization = request.get("Authorization", "");
        const std::string path = Poco::URI(request.getURI()).getPath();
        received.problems = headerProblems(request) + owner_.check(request.getMethod(), path,
                                                                   request.getContentType(), body);
        // /repos/<owner>/<repo>/statuses/<sha>
        std::vector<std::string> parts;
        for (std::string::size_type start = 1; start <= path.size();) {
            const auto end = std::min(path.find('/', start), path.size());
            parts.push_back(path.substr(start, end - start));
            start = end + 1;
        }
        if (parts.size() == 5) {
            received.repository = parts[1] + "/" + parts[2];
            received.sha = parts[4];
        }
        try {
            const Poco::JSON::Object::Ptr json = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
            received.state = json->optValue<std::string>("state", "");
            received.context = json->optValue<std::string>("context", "");
            received.description = json->optValue<std::string>("description", "");
            received.targetUrl = json->optValue<std::string>("target_url", "");
        } catch (const Poco::Exception&) {
            // checkRequest said so already.
        }
        if (characters(received.description) > 140) {
            received.problems += "description is longer than GitHub's 140 characters\n";
        }
        const StandInAnswer answer = owner_.take(received);
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
        for (const auto& [name, value] : answer.headers) response.set(name, value);
        response.setContentType("application/json; charset=utf-8");
        const std::string& out = answer.body.empty() ? (answer.status == 201 ? owner_.example_ : "{}") : answer.body;
        response.setContentLength(static_cast<std::streamsize>(out.size()));
        response.send() << out;
    }

private:
    GitHubStandIn& owner_;
};

namespace {

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(std::function<Poco::Net::HTTPRequestHandler*()> make) : make_(std::move(make)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return make_();
    }

private:
    std::function<Poco::Net::HTTPRequestHandler*()> make_;
};

// GitHub's description, read once for the whole suite (13 MB of JSON).
const OpenApiContract& statusContract() {
    static const OpenApiContract contract =
        OpenApiContract::forOperation(IntegrationEnvironment::githubDescription(), kOperation, "post");
    return contract;
}

}  // namespace

GitHubStandIn::GitHubStandIn(const std::string& certificate, const std::string& key)
    : contract_(statusContract()),
      example_(contract_.exampleAnswer("post", kOperation, 201)),
      certificate_(certificate),
      key_(key) {
    listen();
}

GitHubStandIn::~GitHubStandIn() { goDown(); }

void GitHubStandIn::listen() {
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port_), 64,
                                         makeServerTlsContext(certificate_, key_));
    port_ = socket.address().port();
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(false);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory([this] { return new Handler(*this); }), socket,
                                                       params);
    server_->start();
}

std::string GitHubStandIn::url() const { return "https://localhost:" + std::to_string(port_); }

void GitHubStandIn::goDown() {
    if (!server_) return;
    server_->stopAll(true);
    server_.reset();  // closes the listening socket: connections are refused
}

void GitHubStandIn::comeBack() {
    if (!server_) listen();
}

void GitHubStandIn::answerWith(std::function<StandInAnswer(const ReceivedStatus&)> answer) {
    std::lock_guard<std::mutex> lock(mutex_);
    answer_ = std::move(answer);
}

std::string GitHubStandIn::check(const std::string& method, const std::string& path, const std::string& contentType,
                                 const std::string& body) {
    std::lock_guard<std::mutex> lock(mutex_);
    return contract_.checkRequest(method, kOperation, path, contentType, body);
}

StandInAnswer GitHubStandIn::take(ReceivedStatus request) {
    std::lock_guard<std::mutex> lock(mutex_);
    received_.push_back(request);
    const StandInAnswer answer = answer_ ? answer_(received_.back()) : StandInAnswer{};
    received_.back().answered = answer.status;
    return answer;
}

std::vector<ReceivedStatus> GitHubStandIn::received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
}

bool GitHubStandIn::waitFor(const std::function<bool(const std::vector<ReceivedStatus>&)>& done,
                            std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(received())) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

}  // namespace slipway::testing
