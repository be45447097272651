#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

#include "storage/build_query.h"
#include "storage/clock.h"
#include "storage/commit_group.h"
#include "storage/records.h"
#include "storage/statement_cache.h"
#include "storage/wal_checkpointer.h"

namespace slipway {

// Every query slipway makes, over one SQLite connection. Thread-safe: calls are
// serialised, and each one that writes is one transaction.
class Store {
public:
    // Opens the database at `path` (see openDatabase) and reads time from `clock`.
    Store(const std::string& path, const Clock& clock);

    // Records a delivery and queues `jobs`, and returns once that is committed.
    // A delivery id seen before records nothing and reports `duplicate`,
    // unless that delivery was recorded as `unconfigured` or `ignored`: then
    // it is recorded again as planned now (its jobs queued). A commit already
    // queued or running is reported as `pending`, not queued again. Deliveries recorded concurrently share one transaction (see
    // CommitGroup), each in a savepoint of its own: one that fails throws for
    // its caller alone, a commit that fails throws for every delivery in it.
    RecordedDelivery recordDelivery(Delivery delivery, const std::vector<JobRequest>& jobs);

    // How many transactions recordDelivery has committed (or tried to).
    std::size_t deliveryCommits() { return deliveries_.batches(); }

    // Marks the oldest queued job running and returns it; nullopt when none
    // waits. A job waits while another job of the same commit runs (a retry
    // of one service and the job of every service are never built at once).
    std::optional<Job> claimJob();

    // Ends a running job as succeeded or failed (with `error`), and in the
    // same transaction fails any build of it still queued or running.
    void finishJob(std::int64_t jobId, RunState state, const std::string& error);

    // Queues a build of `build.service` for a running job; returns its id.
    std::int64_t addBuild(const Build& build);

    // Records a build that failed before it could start (an invalid images.json entry).
    std::int64_t addFailedBuild(const Build& build);

    void startBuild(std::int64_t buildId);
    // Ends a build as succeeded (with the pushed `digest`; `reused` when it
    // was not built because the registry had the same content) or failed.
    void finishBuild(std::int64_t buildId, RunState state, const std::string& digest, const std::string& error,
                     bool reused = false, const std::vector<BuildPlatform>& platforms = {});

    // Jobs left running by a daemon that stopped go back to the queue with their
    // attempt raised, or fail as interrupted once `maxAttempts` of their runs
    // were cut short (retries by hand do not count); their unfinished builds
    // fail as interrupted (a rerun makes new ones). Builds still queued or
    // running under a job that ended (an older slipwayd's) fail too.
    // Returns how many jobs were queued again.
    int requeueInterrupted(int maxAttempts);

    std::optional<Build> build(std::int64_t id);
    std::optional<Job> job(std::int64_t id);
    std::vector<Build> buildsOfJob(std::int64_t jobId);
    // The builds `query` selects, newest first.
    std::vector<Build> findBuilds(const BuildQuery& query);

    // Queues a job that no webhook asked for (POST /api/builds, a retry). Returns
    // its id, or the id of the job already queued or running for the same
    // request (the commit, and the one service of a retry or every service) in
    // `pending` with 0 returned.
    std::int64_t queueJob(const JobRequest& request, std::int64_t& pending);

    // How many builds are in `state` (queued and running stay few).
    std::int64_t countBuilds(RunState state);
    std::int64_t countJobs(RunState state);

    // The newest due commit status of each commit and context, oldest first,
    // at most `limit`, leaving out those of the repositories in `skipRepos`.
    // Older due ones of the same commit and context are marked superseded in
    // the same transaction: GitHub shows only the newest.
    std::vector<CommitStatus> dueCommitStatuses(int limit, const std::vector<std::string>& skipRepos = {});
    // Records one request made for commit status `id`: its delivery now (Due
    // when it is to be tried again) and what the request met.
    void recordStatusAttempt(std::int64_t id, StatusDelivery delivery, const std::string& detail);
    // Abandons commit status `id` without a request, for `why`.
    void abandonCommitStatus(std::int64_t id, const std::string& why);
    // The newest commit status of build `buildId`; nullopt when it reports none.
    std::optional<CommitStatus> commitStatusOf(std::int64_t buildId);

    // What pruneHistory removed.
    struct Pruned {
        std::vector<std::int64_t> builds;  // whose logs can go too
        std::int64_t jobs = 0;
        std::int64_t deliveries = 0;
    };
    // Removes the builds that ended before `before` (when set) or are not
    // among the newest `keepBuilds` finished ones (when above 0), with their
    // commit statuses, in transactions of a few hundred; then the ended jobs
    // left without builds (theirs removed now, or ended before `before`), and
    // the deliveries received before `before` that no job names any more. The
    // newest finished build of each repository's service always stays, as do
    // builds of a job still queued or running and builds whose commit status
    // is still to be sent.
    Pruned pruneHistory(const std::optional<Poco::Timestamp>& before, std::int64_t keepBuilds);

    // This state folder's own id, made with the database: what its builds'
    // images are labelled with (kLabelInstance).
    std::string instanceId();

    // Throws unless the database accepts a write right now.
    void checkWritable();
    std::vector<Delivery> recentDeliveries(int limit);

private:
    // One recordDelivery call, as CommitGroup hands it to recordDeliveries.
    struct DeliveryWrite {
        Delivery delivery;
        const std::vector<JobRequest>* jobs;
        RecordedDelivery result;
        std::exception_ptr failure;
    };
    // Writes `batch` in one transaction and commits it.
    void recordDeliveries(const std::vector<DeliveryWrite*>& batch);
    // Writes one delivery and its jobs; the caller holds the lock and a transaction.
    RecordedDelivery insertDelivery(const Delivery& delivery, const std::vector<JobRequest>& jobs,
                                    const std::string& at);

    std::string now() const;
    // Writes a commit status of `state` to the outbox for each build that
    // reports statuses and `condition` (SQL over the builds table, with at most
    // one ?, bound to `id`) selects. The caller holds the lock and the
    // transaction of the transition it reports.
    void queueCommitStatuses(CommitState state, const std::string& at, const std::string& condition,
                             std::optional<std::int64_t> id = std::nullopt);
    // Inserts one queued job unless the commit is queued or running already
    // (then returns 0 and sets `pending`). The caller holds the lock and a transaction.
    std::int64_t insertJob(const std::string& deliveryId, const JobRequest& request, const std::string& at,
                           std::int64_t& pending);

    const Clock& clock_;
    std::mutex mutex_;
    SQLite::Database db_;
    StatementCache statements_{db_};  // for the delivery path
    CommitGroup<DeliveryWrite> deliveries_{[this](const std::vector<DeliveryWrite*>& batch) {
        recordDeliveries(batch);
    }};
    WalCheckpointer checkpointer_;
};

}  // namespace slipway
