#pragma once

#include <stdexcept>
#include <string>

namespace slipway {

// A webhook body that cannot be understood; what() names the problem (HTTP 400).
class WebhookError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The parts of a GitHub event that decide what slipway builds.
struct WebhookEvent {
    std::string event;      // X-GitHub-Event: ping, pull_request, push, ...
    std::string action;     // "action" (pull_request: opened, closed, ...)
    std::string repo;       // repository.full_name; empty when an event other than pull_request or push has none
    bool merged = false;    // pull_request.merged
    std::string sha;        // the commit to build: merge_commit_sha, or push "after"
    std::string branch;     // pull_request base.ref, or the branch a push went to
    bool deleted = false;   // a push that deleted its branch
};

// Parses a GitHub webhook body. `contentType` is application/json or
// application/x-www-form-urlencoded (the JSON is then the "payload" field).
// Throws WebhookError when the body is not what GitHub sends for `event`
// (std::bad_alloc when memory for its parse runs out: not the sender's fault).
// The body is taken and parsed where it is (copied only when it has no room
// for the parser's padding).
WebhookEvent parseWebhook(const std::string& event, const std::string& contentType, std::string body);

// True for 40 lowercase or uppercase hex characters.
bool isCommitSha(const std::string& sha);

}  // namespace slipway
