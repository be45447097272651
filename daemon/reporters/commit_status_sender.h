#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/settings.h"
#include "daemon/github/commit_status_client.h"
#include "daemon/pipeline/build_events.h"
#include "daemon/pipeline/retry_policy.h"
#include "daemon/reporters/status_attempts.h"
#include "storage/records.h"
#include "storage/store.h"

namespace slipway {

// What GitHub's answer to a commit status means for it.
struct StatusVerdict {
    enum class Action { Sent, RetryLater, RateLimited, Abandon };
    Action action = Action::Sent;
    std::chrono::seconds wait{0};  // RateLimited: until the limit resets
    std::string detail;            // for the API and the log
};

// Reads `answer` as GitHub's REST API documents it: 2xx sent; a 429, or a 403
// with Retry-After or no requests remaining, waits as Retry-After or
// X-RateLimit-Reset (seconds since the epoch, compared with `nowEpoch`) say,
// a minute when neither does; 5xx and 408 are tried again; any other answer
// (401 bad token, 403 no permission, 404, 422 invalid or over 1000 statuses)
// will not change by asking again.
StatusVerdict judgeStatusAnswer(const StatusAnswer& answer, std::int64_t nowEpoch);

// The description GitHub shows beside a status of `build` ("pushed
// registry.example.com/api:1.4.2", the build's error...), cut to GitHub's
// 140 characters at a UTF-8 character boundary.
std::string describeStatus(CommitState state, const Build& build);

struct StatusSenderSettings {
    std::vector<RepoSettings> repos;  // owner/repo, token and whether each reports
    std::string publicUrl;            // server.public_url; empty: no target_url
    RetryPolicy backoff{0, std::chrono::milliseconds(1000), std::chrono::milliseconds(15000)};
    int batch = 50;                   // statuses read from the store per pass
    // How long the sender waits for a build event before it reads the outbox
    // anyway. With several nodes, one sends for all, and the statuses the
    // others' builds queue wake nobody on it: then a few seconds.
    std::chrono::milliseconds idleCheck = std::chrono::minutes(10);
};

// Sends the commit statuses the store's transitions queued (see
// Store::dueCommitStatuses), from a thread of its own, so that a slow or
// unreachable GitHub never holds up a build or a webhook. Only the newest
// status of a commit and context is sent; the statuses of one context go in
// the order of their transitions. A network error or a 5xx backs every
// status off (GitHub is one service), doubling from backoff.firstDelay up to
// backoff.maxDelay, without giving up; a rate limit holds back the statuses
// of that repository's token until it resets. What is due survives a restart
// or a kill, since the store holds it. Listens to build events only to wake
// up: the store has written the status before the event comes.
class CommitStatusSender final : public BuildEvents {
public:
    CommitStatusSender(StatusSenderSettings settings, Store& store, CommitStatusApi& api, StatusAttempts& attempts);
    ~CommitStatusSender() override;
    CommitStatusSender(const CommitStatusSender&) = delete;
    CommitStatusSender& operator=(const CommitStatusSender&) = delete;

    void start();
    // Ends the thread. A request in flight is not cut short: stop() waits for
    // its answer, or for the client's timeouts (each of connect, send and
    // receive) and the host name's resolution to run out.
    void stop();

    // One pass: sends what is due and may be sent now. Returns when the next
    // pass should run if nothing wakes the sender first. The thread calls it;
    // so can a test, without start().
    std::chrono::steady_clock::time_point sendDue(std::chrono::steady_clock::time_point now);

    void jobStarted(const Job&) override {}
    void jobFinished(const Job&) override { wake(); }
    void buildQueued(const Build&) override { wake(); }
    void buildStarted(const Build&) override { wake(); }
    void buildRetrying(const Build&, const std::string&, std::chrono::milliseconds, int, int) override {}
    void stepTimed(const Build&, BuildStep, double) override {}
    void buildFinished(const Build&) override { wake(); }

private:
    void wake();
    void run();
    // Records the verdict on status `status` and tells `attempts_`.
    void record(const CommitStatus& status, StatusDelivery delivery, StatusAttempt attempt, const std::string& detail);

    StatusSenderSettings settings_;
    Store& store_;
    CommitStatusApi& api_;
    StatusAttempts& attempts_;

    std::mutex mutex_;
    std::condition_variable wakeup_;
    bool woken_ = false;
    std::atomic<bool> stopping_{false};  // set under mutex_, read by a pass too
    std::thread thread_;

    // Used by sendDue alone (one pass at a time).
    int failures_ = 0;  // network errors and 5xx in a row
    std::chrono::steady_clock::time_point retryAt_{};
    std::map<std::string, std::chrono::steady_clock::time_point> limitedUntil_;  // by repository alias
    std::set<std::string> unreported_;  // aliases whose statuses were dropped, said once each in the log
};

}  // namespace slipway
