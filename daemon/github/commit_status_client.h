#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <Poco/Net/Context.h>
#include <Poco/URI.h>

#include "storage/records.h"

namespace slipway {

// One commit status, as POST /repos/{owner}/{repo}/statuses/{sha} takes it.
struct StatusRequest {
    std::string repository;  // owner/repo
    std::string sha;
    CommitState state = CommitState::Pending;
    std::string context;
    std::string description;  // at most 140 characters, GitHub's limit
    std::string targetUrl;    // empty: none sent
    std::string token;        // never in an error or a log
};

// What GitHub answered, with the headers that say when to ask again.
struct StatusAnswer {
    int status = 0;
    std::string message;                         // the body's "message", when it has one
    std::optional<std::int64_t> retryAfter;      // Retry-After, in seconds
    std::optional<std::int64_t> remaining;       // x-ratelimit-remaining
    std::optional<std::int64_t> resetAt;         // x-ratelimit-reset, seconds since the epoch
};

// GitHub could not be reached or did not answer in time; what() says where and
// why, never with the token.
class GitHubUnreachable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The one call of GitHub's REST API that commit statuses need: the seam the
// sender is tested through.
class CommitStatusApi {
public:
    virtual ~CommitStatusApi() = default;
    // Creates the status; throws GitHubUnreachable when no answer came.
    virtual StatusAnswer createStatus(const StatusRequest& request) = 0;
};

// CommitStatusApi over HTTPS (the settings take no other scheme: the token
// travels), with the headers GitHub's REST API asks for: a bearer token,
// Accept: application/vnd.github+json, X-GitHub-Api-Version and a User-Agent.
// Trusts the system's CAs, and `caFile` as well when it is set (an Enterprise
// Server with a private CA). Each call makes its own connection: thread-safe.
class GitHubStatusClient final : public CommitStatusApi {
public:
    // `apiUrl`: https://api.github.com, or https://HOST/api/v3. Throws
    // Poco::Exception when `caFile` cannot be loaded as PEM certificates.
    GitHubStatusClient(const std::string& apiUrl, const std::string& caFile, std::chrono::seconds timeout);

    StatusAnswer createStatus(const StatusRequest& request) override;

private:
    Poco::URI api_;
    std::chrono::seconds timeout_;
    Poco::Net::Context::Ptr context_;
};

}  // namespace slipway
