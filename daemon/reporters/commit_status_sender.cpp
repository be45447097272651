#include "daemon/reporters/commit_status_sender.h"

#include <algorithm>
#include <random>

#include <Poco/Logger.h>

namespace slipway {
namespace {

Poco::Logger& logger() {
    static Poco::Logger& logger = Poco::Logger::get("slipway.github");
    return logger;
}

// GitHub's limit on a status description, in characters.
constexpr std::size_t kMaxDescription = 140;

// `text`'s first line, at most kMaxDescription characters (UTF-8 code points),
// ending in an ellipsis when cut.
std::string fitDescription(const std::string& text) {
    const std::string line = text.substr(0, text.find('\n'));
    std::size_t characters = 0;
    std::size_t cut = std::string::npos;  // where character kMaxDescription would start
    for (std::size_t i = 0; i < line.size(); ++i) {
        if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;  // inside a character
        if (characters == kMaxDescription - 1) cut = i;
        if (++characters > kMaxDescription) return line.substr(0, cut) + "\xE2\x80\xA6";  // …
    }
    return line;
}

std::int64_t epochNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

StatusVerdict judgeStatusAnswer(const StatusAnswer& answer, std::int64_t nowEpoch) {
    using Action = StatusVerdict::Action;
    std::string detail = "GitHub answered " + std::to_string(answer.status);
    if (!answer.message.empty()) detail += ": " + answer.message;
    if (answer.status >= 200 && answer.status < 300) return {Action::Sent, std::chrono::seconds(0), detail};
    const bool exhausted = answer.remaining && *answer.remaining == 0;
    if (answer.status == 429 || (answer.status == 403 && (answer.retryAfter || exhausted))) {
        // GitHub's advice: Retry-After first, then the reset time, else a minute.
        std::int64_t wait = 60;
        if (answer.retryAfter) {
            wait = *answer.retryAfter;
        } else if (exhausted && answer.resetAt) {
            wait = *answer.resetAt - nowEpoch;
        }
        wait = std::clamp<std::int64_t>(wait, 1, 3600);
        return {Action::RateLimited, std::chrono::seconds(wait),
                detail + " (rate limited; waiting " + std::to_string(wait) + " s)"};
    }
    if (answer.status >= 500 || answer.status == 408) return {Action::RetryLater, std::chrono::seconds(0), detail};
    return {Action::Abandon, std::chrono::seconds(0), detail};
}

std::string describeStatus(CommitState state, const Build& build) {
    switch (state) {
        case CommitState::Pending:
            return fitDescription((build.state == RunState::Queued ? "waiting to build " : "building ") + build.image);
        case CommitState::Success:
            return fitDescription(build.reused ? "skipped: " + build.image + " already published from this content"
                                               : "pushed " + build.image);
        case CommitState::Failure:
        case CommitState::Error:
            break;
    }
    return fitDescription(build.error.empty() ? "failed" : build.error);
}

CommitStatusSender::CommitStatusSender(StatusSenderSettings settings, Store& store, CommitStatusApi& api,
                                       StatusAttempts& attempts)
    : settings_(std::move(settings)), store_(store), api_(api), attempts_(attempts) {}

CommitStatusSender::~CommitStatusSender() { stop(); }

void CommitStatusSender::start() { thread_ = std::thread([this] { run(); }); }

void CommitStatusSender::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void CommitStatusSender::wake() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        woken_ = true;
    }
    wakeup_.notify_all();
}

void CommitStatusSender::run() {
    int storeFailures = 0;  // passes in a row the store failed
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        woken_ = false;
        lock.unlock();
        std::chrono::steady_clock::time_point next;
        try {
            next = sendDue(std::chrono::steady_clock::now());
            storeFailures = 0;
        } catch (const std::exception& e) {
            // The store failed (disk full, locked too long): what is due stays
            // due, and is not posted again at once.
            const auto wait = backoffDelay(settings_.backoff, ++storeFailures, 1.0);
            next = std::chrono::steady_clock::now() + wait;
            logger().error(std::string("cannot read or record commit statuses: ") + e.what() + "; trying again in " +
                           std::to_string(wait.count()) + " ms");
        }
        lock.lock();
        wakeup_.wait_until(lock, next, [this] { return woken_ || stopping_; });
    }
}

void CommitStatusSender::record(const CommitStatus& status, StatusDelivery delivery, StatusAttempt attempt,
                                const std::string& detail) {
    store_.recordStatusAttempt(status.id, delivery, detail);
    attempts_.statusAttempted(attempt);
}

std::chrono::steady_clock::time_point CommitStatusSender::sendDue(std::chrono::steady_clock::time_point now) {
    // Nothing to do until a build event wakes the sender, but look again now and then.
    auto next = now + settings_.idleCheck;
    if (now < retryAt_) return retryAt_;
    // Several nodes share the outbox and one sends it; the others look again
    // now and then, to take over from one that stopped.
    if (!store_.holdsDuty("commit-statuses")) return now + std::chrono::seconds(15);
    // A rate-limited repository's statuses are left out of the read, so that
    // they neither hold up other repositories' nor bring the pass back at once.
    std::vector<std::string> limited;
    for (auto it = limitedUntil_.begin(); it != limitedUntil_.end();) {
        if (now < it->second) {
            limited.push_back(it->first);
            next = std::min(next, it->second);
            ++it;
        } else {
            it = limitedUntil_.erase(it);
        }
    }
    const std::vector<CommitStatus> due = store_.dueCommitStatuses(settings_.batch, limited);
    for (const CommitStatus& status : due) {
        if (stopping_) return now;
        if (limitedUntil_.count(status.repo)) continue;  // limited by an answer earlier in this pass
        const std::string tag = status.context + " on " + status.repo + "@" + status.sha.substr(0, 12);
        const RepoSettings* repo = repoByAlias(settings_.repos, status.repo);
        if (!repo || !repo->commitStatuses) {
            // Configured away since the build: nothing is asked of GitHub.
            const std::string why = "repository " + status.repo + " no longer reports commit statuses";
            store_.abandonCommitStatus(status.id, why);
            if (unreported_.insert(status.repo).second) logger().warning(why + "; its statuses are not sent");
            continue;
        }
        // The foreign key keeps a status's build.
        const Build build = store_.build(status.buildId).value();
        StatusRequest request{repo->name, status.sha, status.state, status.context,
                              describeStatus(status.state, build), "", repo->token};
        if (!settings_.publicUrl.empty()) {
            request.targetUrl = settings_.publicUrl + "/api/builds/" + std::to_string(build.id) + "/log";
        }
        StatusVerdict verdict;
        try {
            verdict = judgeStatusAnswer(api_.createStatus(request), epochNow());
        } catch (const GitHubUnreachable& e) {
            verdict = {StatusVerdict::Action::RetryLater, std::chrono::seconds(0), e.what()};
        }
        // Any answer but a 5xx means GitHub is there: the backoff starts over.
        if (verdict.action != StatusVerdict::Action::RetryLater) failures_ = 0;
        switch (verdict.action) {
            case StatusVerdict::Action::Sent:
                record(status, StatusDelivery::Sent, StatusAttempt::Sent, verdict.detail);
                break;
            case StatusVerdict::Action::RateLimited:
                limitedUntil_[status.repo] = now + verdict.wait;
                next = std::min(next, now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(verdict.wait));
                logger().warning("commit status " + tag + ": " + verdict.detail);
                record(status, StatusDelivery::Due, StatusAttempt::Retried, verdict.detail);
                break;
            case StatusVerdict::Action::RetryLater: {
                thread_local std::mt19937 random{std::random_device{}()};
                const auto wait =
                    backoffDelay(settings_.backoff, ++failures_, std::uniform_real_distribution<double>(0.5, 1.5)(random));
                retryAt_ = now + wait;
                logger().warning("commit status " + tag + ": " + verdict.detail + "; sending again in " +
                                 std::to_string(wait.count()) + " ms");
                record(status, StatusDelivery::Due, StatusAttempt::Retried, verdict.detail);
                // GitHub is one service: what else is due waits as well.
                return retryAt_;
            }
            case StatusVerdict::Action::Abandon:
                logger().warning("commit status " + tag + " abandoned: " + verdict.detail);
                record(status, StatusDelivery::Abandoned, StatusAttempt::Abandoned, verdict.detail);
                break;
        }
    }
    // A full batch may have more behind it.
    if (due.size() == static_cast<std::size_t>(settings_.batch)) return now;
    return next;
}

}  // namespace slipway
