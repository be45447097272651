#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <stdexcept>
#include <vector>

#include "storage/build_query.h"
#include "storage/clock.h"
#include "storage/commit_group.h"
#include "storage/records.h"
#include "storage/sql.h"

namespace slipway {

// A write of a job's work that its node no longer holds: its lease ran out
// and another node (or another run here) has the job now. Nothing was
// written; the work is to stop.
class LeaseLost : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What became of a delivery given to Store::recordDelivery: what it
// recorded, or (`failure` not null) why it could not be recorded.
using DeliveryRecorded = std::function<void(RecordedDelivery recorded, std::exception_ptr failure)>;

// Who this store works for: the node's name, shown on every job and build it
// claims, and how long a claim holds without being renewed.
struct NodeIdentity {
    std::string name = "local";
    std::chrono::seconds lease{60};
};

// Every query slipway makes, over one connection: SQLite's (one node), or
// PostgreSQL's (one or several nodes sharing it). Thread-safe: calls are
// serialised, and each one that writes is one transaction.
//
// A job is claimed with a lease (`node`, `lease_until`), which renewLeases
// extends while the node works; every write of a job's work is fenced on the
// claim (the job running, on this node, at this attempt), so that a node
// whose lease was taken over cannot record anything over the new attempt's.
class Store {
public:
    // Opens the SQLite database at `path` (see openDatabase) and reads time from `clock`.
    Store(const std::string& path, const Clock& clock, NodeIdentity node = {});
    // Works over `connection` (opened, its schema up to date).
    Store(std::unique_ptr<SqlConnection> connection, const Clock& clock, NodeIdentity node = {});

    // Records a delivery and queues `jobs`; returns at once, and tells
    // `recorded` what became of them once that is committed, on the store's
    // settling thread (`recorded` must not throw, and should be brief: every
    // delivery recorded after it is told after it). A delivery id seen before records nothing and
    // reports `duplicate`, unless that delivery was recorded as
    // `unconfigured` or `ignored`: then it is recorded again as planned now
    // (its jobs queued). A commit already queued or running is reported as
    // `pending`, not queued again. Deliveries recorded while a commit is in
    // flight share the next transaction (see CommitGroup); when it fails,
    // each is written again in a transaction of its own, so that one that
    // fails fails alone.
    void recordDelivery(Delivery delivery, std::vector<JobRequest> jobs, DeliveryRecorded recorded);

    // How many transactions recordDelivery has committed (or tried to).
    std::size_t deliveryCommits() { return deliveries_.batches(); }

    // Marks the oldest queued job running on this node, with a lease, and
    // returns it; nullopt when none waits. A job waits while another job of
    // the same commit runs (a retry of one service and the job of every
    // service are never built at once). No two nodes claim the same job.
    std::optional<Job> claimJob();

    // Extends the leases of jobs `ids` while this node runs them; returns
    // the ids it still held (any other was taken back meanwhile).
    std::vector<std::int64_t> renewLeases(const std::vector<std::int64_t>& ids);

    // Ends running job `job` (as claimed) as succeeded or failed (with
    // `error`), and in the same transaction fails any build of it still
    // queued or running. Throws LeaseLost when this node no longer holds it.
    void finishJob(const Job& job, RunState state, const std::string& error);

    // Queues a build of `build.service` for a running job (build.jobId at
    // build.attempt); returns its id. Throws LeaseLost as finishJob does.
    std::int64_t addBuild(const Build& build);

    // Records a build that failed before it could start (an invalid images.json entry).
    std::int64_t addFailedBuild(const Build& build);

    // Marks a queued build running; throws LeaseLost when its job is no longer this node's.
    void startBuild(std::int64_t buildId);
    // Ends a build as succeeded (with the pushed `digest`; `reused` when it
    // was not built because the registry had the same content) or failed.
    // Throws LeaseLost when its job is no longer this node's.
    void finishBuild(std::int64_t buildId, RunState state, const std::string& digest, const std::string& error,
                     bool reused = false, const std::vector<BuildPlatform>& platforms = {});
    // Throws LeaseLost unless this node still runs job `jobId` at `attempt`.
    void checkLease(std::int64_t jobId, int attempt);

    // Jobs this node left running when it stopped (with SQLite, every running
    // job: one node uses the file) go back to the queue with their attempt
    // raised, or fail as interrupted once `maxAttempts` of their runs were
    // cut short (retries by hand do not count); their unfinished builds fail
    // as interrupted (a rerun makes new ones). Builds still queued or running
    // under a job that ended (an older slipwayd's) fail too. Returns how many
    // jobs were queued again.
    int requeueInterrupted(int maxAttempts);

    // The same for jobs of any node whose lease ran out unrenewed: their node
    // died, froze or lost the database. Returns how many were queued again.
    int requeueExpiredLeases(int maxAttempts);

    // Whether this node is the one to do the cluster's duty `duty` (sending
    // commit statuses, pruning history): with SQLite always; with PostgreSQL
    // the node that holds the duty's advisory lock, kept while its connection
    // lives, so that a node that dies hands it on.
    bool holdsDuty(const std::string& duty);

    // Whether this node's name is its own on the database (PostgreSQL: no
    // other live node holds it), taking it if free. Two nodes of one name
    // would renew and requeue each other's jobs. With SQLite always true.
    bool claimNodeName();

    const NodeIdentity& node() const { return node_; }
    SqlDialect dialect() const { return db_->dialect(); }

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

    // How many of this node's builds are in `state` (queued and running stay few).
    std::int64_t countOwnBuilds(RunState state);
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

    // Appends chunk `seq` of build `buildId`'s log (`last` when the log ends
    // with it) for other nodes to read; a chunk already there is kept.
    void appendLog(std::int64_t buildId, const LogChunk& chunk);
    // The chunks of build `buildId`'s log after chunk `afterSeq`, in order.
    std::vector<LogChunk> logChunks(std::int64_t buildId, int afterSeq);

    // Which of `ids` name a build the store has.
    std::vector<std::int64_t> existingBuilds(const std::vector<std::int64_t>& ids);
    // The id of the newest build; 0 when there is none.
    std::int64_t newestBuildId();

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
        std::vector<JobRequest> jobs;
        DeliveryRecorded recorded;
        RecordedDelivery result;
        std::exception_ptr failure;
    };
    // Writes `batch` in one transaction and commits it.
    void recordDeliveries(std::vector<DeliveryWrite>& batch);
    // Writes one delivery and its jobs; the caller holds the lock and a transaction.
    RecordedDelivery insertDelivery(const Delivery& delivery, const std::vector<JobRequest>& jobs,
                                    const std::string& at);

    std::string now() const;
    // Writes a commit status of `state` to the outbox for each build that
    // reports statuses and `condition` (SQL over the builds table, its ?s
    // bound to `params`) selects. The caller holds the lock and the
    // transaction of the transition it reports.
    void queueCommitStatuses(CommitState state, const std::string& at, const std::string& condition,
                             const std::vector<SqlValue>& params = {});
    // What cut a job short, in its builds' error and its own.
    struct Interruption {
        std::string buildError;  // of each build left unfinished
        std::string jobCause;    // "by ...": how the job was interrupted each time, once it gives up
    };
    // Requeues (or fails, past `maxAttempts`) the running jobs `condition`
    // (SQL over the jobs table, its ?s bound to `params`) selects, failing
    // their unfinished builds. The caller holds the lock and a transaction.
    int requeue(const std::string& condition, const std::vector<SqlValue>& params, int maxAttempts,
                const Interruption& why, const std::string& at);
    // Takes (or holds already) the session advisory lock `key` (PostgreSQL).
    bool holdsLock(const std::string& key);
    // Throws LeaseLost (saying `when`) unless job `jobId` runs on this node
    // at `attempt`; with `lock`, on PostgreSQL, the job's row stays locked
    // against a requeue until the caller's transaction ends.
    void holdJob(std::int64_t jobId, int attempt, const std::string& when, bool lock);
    // Runs `write` in a transaction, again when PostgreSQL reports a
    // serialization failure or a deadlock; the caller holds the lock.
    template <typename Write>
    auto transaction(Write write);
    // Inserts one queued job unless the commit is queued or running already
    // (then returns 0 and sets `pending`). The caller holds the lock and a transaction.
    std::int64_t insertJob(const std::string& deliveryId, const JobRequest& request, const std::string& at,
                           std::int64_t& pending);

    const Clock& clock_;
    NodeIdentity node_;
    std::mutex mutex_;
    std::unique_ptr<SqlConnection> db_;
    // Last: its threads write with everything above, and are ended first.
    CommitGroup<DeliveryWrite> deliveries_{
        [this](std::vector<DeliveryWrite>& batch) { recordDeliveries(batch); },
        [](DeliveryWrite& write, std::exception_ptr failure) {
            write.recorded(std::move(write.result), failure ? failure : write.failure);
        }};
};

}  // namespace slipway
