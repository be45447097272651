#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/HTTPServer.h>

#include "tests/integration/openapi_contract.h"

namespace slipway::testing {

// One commit status request the stand-in received.
struct ReceivedStatus {
    std::string repository;  // owner/repo, from the path
    std::string sha;
    std::string state, context, description, targetUrl;
    std::string authorization;
    // What about the request GitHub's description or documentation does not
    // allow, one per line; empty when nothing.
    std::string problems;
    std::chrono::system_clock::time_point at;  // when it came
    int answered = 0;                          // the status the stand-in answered with
};

// How the stand-in answers one request.
struct StandInAnswer {
    int status = 201;
    std::map<std::string, std::string> headers;
    std::string body;  // empty: GitHub's own example for the status (or {})
};

// GitHub's REST API as far as commit statuses go, over HTTPS on a free
// loopback port, standing in for api.github.com, which the tests cannot
// reach. Every request is checked against GitHub's own OpenAPI description
// of POST /repos/{owner}/{repo}/statuses/{sha} (@octokit/openapi): path,
// method and body schema, and against its documentation for what the
// description leaves out: a bearer token, Accept: application/vnd.github+json,
// X-GitHub-Api-Version 2022-11-28, a User-Agent and a description of at most
// 140 characters. It can go down (its port refuses connections) and come back.
class GitHubStandIn {
public:
    // Serves with `certificate` and `key` (for localhost) until destroyed.
    GitHubStandIn(const std::string& certificate, const std::string& key);
    ~GitHubStandIn();

    // https://localhost:<port>: github.api_url for slipwayd.
    std::string url() const;

    // Closes the port: requests are refused, as when GitHub is unreachable.
    void goDown();
    // Serves on the same port again.
    void comeBack();

    // Decides the answer to each request from now on (201 by default).
    void answerWith(std::function<StandInAnswer(const ReceivedStatus&)> answer);

    // Every request received so far, in order.
    std::vector<ReceivedStatus> received() const;
    // Waits up to `timeout` until `done` holds for what was received; says whether it did.
    bool waitFor(const std::function<bool(const std::vector<ReceivedStatus>&)>& done,
                 std::chrono::seconds timeout) const;

private:
    class Handler;
    void listen();
    // What the description finds wrong with a request; called from the server's threads.
    std::string check(const std::string& method, const std::string& path, const std::string& contentType,
                      const std::string& body);
    // Records `request` and decides its answer; called from the server's threads.
    StandInAnswer take(ReceivedStatus request);

    OpenApiContract contract_;
    std::string example_;  // GitHub's example answer to a created status
    std::string certificate_, key_;
    unsigned short port_ = 0;
    std::unique_ptr<Poco::Net::HTTPServer> server_;

    mutable std::mutex mutex_;
    std::vector<ReceivedStatus> received_;
    std::function<StandInAnswer(const ReceivedStatus&)> answer_;
};

}  // namespace slipway::testing
