#include "storage/store.h"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include <Poco/Timespan.h>

#include "storage/sqlite_connection.h"

namespace slipway {
namespace {

// A state or outcome column, as the store wrote it; a text it does not know
// (a newer slipwayd's, say) is an error that names the row, not a guess.
template <typename Enum>
Enum enumColumn(const SqlRow& row, std::size_t index, std::optional<Enum> (*parse)(const std::string&),
                const char* what, const char* column, const std::string& id) {
    const std::string value = columnText(row, index);
    const std::optional<Enum> parsed = parse(value);
    if (!parsed) throw std::runtime_error(std::string(what) + " " + id + " has an unknown " + column + " '" + value + "'");
    return *parsed;
}

const char* const kJobColumns =
    "id, delivery_id, repo, sha, state, error, attempt, queued_at, started_at, finished_at, service, node, "
    "lease_until";

Job readJob(const SqlRow& row) {
    Job job;
    job.id = columnInteger(row, 0);
    job.deliveryId = columnText(row, 1);
    job.repo = columnText(row, 2);
    job.sha = columnText(row, 3);
    job.state = enumColumn(row, 4, parseRunState, "job", "state", std::to_string(job.id));
    job.error = columnText(row, 5);
    job.attempt = static_cast<int>(columnInteger(row, 6));
    job.queuedAt = columnText(row, 7);
    job.startedAt = columnText(row, 8);
    job.finishedAt = columnText(row, 9);
    job.service = columnText(row, 10);
    job.node = columnText(row, 11);
    job.leaseUntil = columnText(row, 12);
    return job;
}

const char* const kBuildColumns =
    "id, job_id, delivery_id, repo, sha, service, version, image, state, digest, error, attempt, "
    "queued_at, started_at, finished_at, content_key, reused, status_context, platforms, node";

Build readBuild(const SqlRow& row) {
    Build b;
    b.id = columnInteger(row, 0);
    b.jobId = columnInteger(row, 1);
    b.deliveryId = columnText(row, 2);
    b.repo = columnText(row, 3);
    b.sha = columnText(row, 4);
    b.service = columnText(row, 5);
    b.version = columnText(row, 6);
    b.image = columnText(row, 7);
    b.state = enumColumn(row, 8, parseRunState, "build", "state", std::to_string(b.id));
    b.digest = columnText(row, 9);
    b.error = columnText(row, 10);
    b.attempt = static_cast<int>(columnInteger(row, 11));
    b.queuedAt = columnText(row, 12);
    b.startedAt = columnText(row, 13);
    b.finishedAt = columnText(row, 14);
    b.contentKey = columnText(row, 15);
    b.reused = columnInteger(row, 16) != 0;
    b.statusContext = columnText(row, 17);
    b.platforms = decodePlatforms(columnText(row, 18));
    b.node = columnText(row, 19);
    return b;
}

const char* const kCommitStatusColumns =
    "id, build_id, repo, sha, context, state, delivery, attempts, detail, created_at, updated_at";

CommitStatus readCommitStatus(const SqlRow& row) {
    CommitStatus s;
    s.id = columnInteger(row, 0);
    s.buildId = columnInteger(row, 1);
    s.repo = columnText(row, 2);
    s.sha = columnText(row, 3);
    s.context = columnText(row, 4);
    const std::string id = std::to_string(s.id);
    s.state = enumColumn(row, 5, parseCommitState, "commit status", "state", id);
    s.delivery = enumColumn(row, 6, parseStatusDelivery, "commit status", "delivery", id);
    s.attempts = static_cast<int>(columnInteger(row, 7));
    s.detail = columnText(row, 8);
    s.createdAt = columnText(row, 9);
    s.updatedAt = columnText(row, 10);
    return s;
}

// A write of a job's work goes through only while the job runs on this node
// at the attempt it was claimed for: `job` and `attempt` are SQL naming the
// job's id and that attempt; the one ? left is the node.
std::string heldBy(const std::string& job, const std::string& attempt) {
    return "EXISTS (SELECT 1 FROM jobs AS held WHERE held.id = " + job +
           " AND held.state = 'running' AND held.node = ? AND held.attempt = " + attempt + ")";
}

// "?, ?, ?": `count` placeholders, for an IN list.
std::string placeholders(std::size_t count) {
    std::string list;
    for (std::size_t i = 0; i < count; ++i) list += i == 0 ? "?" : ", ?";
    return list;
}

// How often a transaction that PostgreSQL failed for a serialization failure
// or a deadlock runs again before the failure is the caller's.
constexpr int kRetries = 4;

}  // namespace

Store::Store(const std::string& path, const Clock& clock, NodeIdentity node)
    : Store(std::make_unique<SqliteConnection>(path), clock, std::move(node)) {}

Store::Store(std::unique_ptr<SqlConnection> connection, const Clock& clock, NodeIdentity node)
    : clock_(clock), node_(std::move(node)), db_(std::move(connection)) {}

std::string Store::now() const { return formatRfc3339(clock_.now()); }

template <typename Write>
auto Store::transaction(Write write) {
    for (int attempt = 0;; ++attempt) {
        try {
            SqlTransaction tx(*db_);
            if constexpr (std::is_void_v<decltype(write())>) {
                write();
                tx.commit();
                return;
            } else {
                auto result = write();
                tx.commit();
                return result;
            }
        } catch (const SqlError& e) {
            if (e.failure() != SqlFailure::Retry || attempt == kRetries) throw;
        }
    }
}

void Store::recordDelivery(Delivery delivery, std::vector<JobRequest> jobs, DeliveryRecorded recorded) {
    deliveries_.submit({std::move(delivery), std::move(jobs), std::move(recorded), {}, nullptr});
}

void Store::recordDeliveries(std::vector<DeliveryWrite>& batch) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    // The batch in one transaction, without a savepoint per delivery: each
    // is a round trip more to PostgreSQL, and the rules (a repeated delivery,
    // a commit already queued) are conflicts the inserts resolve, not errors.
    for (int attempt = 0;; ++attempt) {
        try {
            SqlTransaction tx(*db_);
            for (DeliveryWrite& write : batch) write.result = insertDelivery(write.delivery, write.jobs, at);
            tx.commit();
            return;
        } catch (const SqlError& e) {
            // A connection that died while idle (the server restarted) fails
            // the first statement: once more, on a new one. A database still
            // away fails every delivery now, rather than each after a
            // connection attempt of its own. Run again after a commit that was
            // lost in flight, a delivery is a duplicate: recorded, not lost.
            if (e.failure() == SqlFailure::Unavailable && attempt == 0) continue;
            if (e.failure() == SqlFailure::Unavailable || batch.size() == 1) throw;
            if (e.failure() == SqlFailure::Retry && attempt < kRetries) continue;
        } catch (const std::exception&) {
            if (batch.size() == 1) throw;
        }
        break;
    }
    // A delivery failed (or the commit did): each again in a transaction of
    // its own, so that one that fails fails alone.
    for (DeliveryWrite& write : batch) {
        try {
            write.result = transaction([&] { return insertDelivery(write.delivery, write.jobs, at); });
            write.failure = nullptr;
        } catch (const std::exception&) {
            write.failure = std::current_exception();
        }
    }
}

RecordedDelivery Store::insertDelivery(const Delivery& delivery, const std::vector<JobRequest>& jobs,
                                       const std::string& at) {
    RecordedDelivery result;
    // A delivery id seen before is a duplicate (GitHub's Redeliver must not
    // build twice), unless that delivery built nothing because of the
    // configuration of the time: one for a repository not configured (404)
    // or ignored. The operator who fixes the configuration then redelivers
    // it, and it is planned again, keeping the time it first came. Two nodes
    // given the same delivery at once meet on its primary key: the second
    // waits for the first's commit and then finds it.
    const SqlResult inserted = db_->run(
        "INSERT INTO deliveries (id, event, action, repo, outcome, detail, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "event = excluded.event, action = excluded.action, repo = excluded.repo, "
        "outcome = excluded.outcome, detail = excluded.detail "
        "WHERE deliveries.outcome IN ('unconfigured', 'ignored')",
        {delivery.id, delivery.event, textOrNull(delivery.action), textOrNull(delivery.repo),
         std::string(toString(delivery.outcome)), textOrNull(delivery.detail), at});
    if (inserted.changed == 0) {
        result.duplicate = true;
        return result;  // nothing was written
    }

    for (const JobRequest& request : jobs) {
        std::int64_t pending = 0;
        const std::int64_t queued = insertJob(delivery.id, request, at, pending);
        if (queued != 0) result.queued.push_back(queued);
        if (pending != 0) result.pending.push_back(pending);
    }
    if (!jobs.empty() && result.queued.empty()) {
        // Every commit it names is already waiting or building: say so, queue nothing.
        db_->run("UPDATE deliveries SET outcome = 'pending' WHERE id = ?", {delivery.id});
    }
    return result;
}

std::int64_t Store::insertJob(const std::string& deliveryId, const JobRequest& request, const std::string& at,
                             std::int64_t& pending) {
    static const std::string insert =
        "INSERT INTO jobs (delivery_id, repo, sha, service, attempt, state, queued_at) "
        "VALUES (?, ?, ?, ?, ?, 'queued', ?) "
        "ON CONFLICT (repo, sha, service) WHERE state IN ('queued', 'running') DO NOTHING";
    static const std::string insertReturning = insert + " RETURNING id";
    // On SQLite the new row's rowid rather than RETURNING, whose rows SQLite
    // keeps in a temporary B-tree, opened and closed for every job a webhook
    // queues (bench/README.md).
    const bool sqlite = db_->dialect() == SqlDialect::Sqlite;
    const SqlResult inserted = db_->run(
        sqlite ? insert : insertReturning,
        // service is '' for every service: part of the unique key, never NULL.
        {textOrNull(deliveryId), request.repo, request.sha, request.service, std::int64_t{request.attempt}, at});
    if (sqlite && inserted.changed > 0) return inserted.insertedRowId;
    if (!sqlite && !inserted.rows.empty()) return columnInteger(inserted.rows[0], 0);
    const SqlResult found = db_->run(
        "SELECT id FROM jobs WHERE repo = ? AND sha = ? AND service = ? AND state IN ('queued', 'running')",
        {request.repo, request.sha, request.service});
    if (!found.rows.empty()) pending = columnInteger(found.rows[0], 0);
    return 0;
}

std::int64_t Store::queueJob(const JobRequest& request, std::int64_t& pending) {
    std::lock_guard<std::mutex> lock(mutex_);
    return transaction([&] {
        pending = 0;
        return insertJob("", request, now(), pending);
    });
}

std::optional<Job> Store::claimJob() {
    std::lock_guard<std::mutex> lock(mutex_);
    const Poco::Timestamp at = clock_.now();
    const std::string leaseUntil =
        formatRfc3339(at + Poco::Timespan(static_cast<long>(node_.lease.count()), 0));
    const bool postgres = db_->dialect() == SqlDialect::Postgres;
    return transaction([&]() -> std::optional<Job> {
        // Nodes claim one after the other: the rule below (one job of a
        // commit at a time) reads rows another claim may be changing, which
        // SKIP LOCKED alone would let two nodes both pass.
        if (postgres) db_->run("SELECT pg_advisory_xact_lock(hashtext('slipway.claim'))");
        const SqlResult claimed = db_->run(
            std::string("UPDATE jobs SET state = 'running', started_at = ?, finished_at = NULL, node = ?, "
                        "lease_until = ? "
                        "WHERE id = (SELECT id FROM jobs AS q WHERE q.state = 'queued' "
                        // One job of a commit runs at a time: a retry of one
                        // service waits for the job of every service, whose
                        // builds of the same service and version it would meet.
                        "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.repo = q.repo AND r.sha = q.sha "
                        "AND r.state IN ('queued', 'running') AND r.state = 'running') "
                        "ORDER BY q.id LIMIT 1") +
                (postgres ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING " + kJobColumns,
            {formatRfc3339(at), node_.name, leaseUntil});
        if (claimed.rows.empty()) return std::nullopt;
        return readJob(claimed.rows.front());
    });
}

std::vector<std::int64_t> Store::renewLeases(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return {};
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string leaseUntil =
        formatRfc3339(clock_.now() + Poco::Timespan(static_cast<long>(node_.lease.count()), 0));
    std::vector<SqlValue> values = {leaseUntil, node_.name};
    values.insert(values.end(), ids.begin(), ids.end());
    const SqlResult renewed = db_->run("UPDATE jobs SET lease_until = ? WHERE state = 'running' AND node = ? AND id IN (" +
                                           placeholders(ids.size()) + ") RETURNING id",
                                       values);
    std::vector<std::int64_t> held;
    for (const SqlRow& row : renewed.rows) held.push_back(columnInteger(row, 0));
    std::sort(held.begin(), held.end());
    return held;
}

void Store::checkLease(std::int64_t jobId, int attempt) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Outside a transaction, a lock would protect nothing: a plain read,
    // which never waits behind another node's requeue.
    holdJob(jobId, attempt, "at attempt " + std::to_string(attempt), false);
}

void Store::holdJob(std::int64_t jobId, int attempt, const std::string& when, bool lock) {
    const bool postgres = db_->dialect() == SqlDialect::Postgres;
    const SqlResult held = db_->run(
        std::string("SELECT 1 FROM jobs WHERE id = ? AND state = 'running' AND node = ? AND attempt = ?") +
            (postgres && lock ? " FOR SHARE" : ""),
        {jobId, node_.name, std::int64_t{attempt}});
    if (held.rows.empty()) {
        throw LeaseLost("job " + std::to_string(jobId) + " is no longer held by node " + node_.name + " " + when);
    }
}

void Store::finishJob(const Job& job, RunState state, const std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    transaction([&] {
        const SqlResult ended = db_->run(
            "UPDATE jobs SET state = ?, error = ?, finished_at = ?, lease_until = NULL "
            "WHERE id = ? AND state = 'running' AND node = ? AND attempt = ?",
            {std::string(toString(state)), textOrNull(error), at, job.id, node_.name, std::int64_t{job.attempt}});
        if (ended.changed == 0) {
            throw LeaseLost("job " + std::to_string(job.id) + " was taken from node " + node_.name +
                            " before it could end");
        }
        // A build the job did not see to its end (the store failed in between)
        // would hold the unique index of its service and version for ever.
        const std::string unfinished = "job_id = ? AND state IN ('queued', 'running')";
        queueCommitStatuses(CommitState::Error, at, unfinished, {job.id});
        db_->run("UPDATE builds SET state = 'failed', finished_at = ?, "
                 "error = 'not finished: its job ended first' || coalesce(' (' || ? || ')', '') WHERE " +
                     unfinished,
                 {at, textOrNull(error), job.id});
    });
}

std::int64_t Store::addBuild(const Build& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    return transaction([&] {
        // Locked against a node requeueing the job meanwhile (PostgreSQL), which
        // would leave this build queued under a job that no longer runs here.
        holdJob(build.jobId, build.attempt, "before its build of " + build.service + " was queued", true);
        const SqlResult inserted = db_->run(
            "INSERT INTO builds (job_id, delivery_id, repo, sha, service, version, image, state, error, "
            "attempt, queued_at, finished_at, content_key, status_context, platforms, node) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            {build.jobId, textOrNull(build.deliveryId), build.repo, build.sha, build.service, build.version,
             build.image, std::string(toString(build.state)), textOrNull(build.error), std::int64_t{build.attempt},
             at, textOrNull(isFinished(build.state) ? at : std::string()), textOrNull(build.contentKey),
             textOrNull(build.statusContext), textOrNull(encodePlatforms(build.platforms)), node_.name});
        const std::int64_t id = columnInteger(inserted.rows.at(0), 0);
        queueCommitStatuses(build.state == RunState::Failed ? CommitState::Failure : CommitState::Pending, at,
                            "id = ?", {id});
        return id;
    });
}

std::int64_t Store::addFailedBuild(const Build& build) {
    Build failed = build;
    failed.state = RunState::Failed;
    return addBuild(failed);
}

void Store::startBuild(std::int64_t buildId) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    transaction([&] {
        const SqlResult started = db_->run(
            "UPDATE builds SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued' AND " +
                heldBy("builds.job_id", "builds.attempt"),
            {at, buildId, node_.name});
        if (started.changed == 0) {
            throw LeaseLost("build " + std::to_string(buildId) + " can no longer start on node " + node_.name +
                            ": its job was taken from it");
        }
        queueCommitStatuses(CommitState::Pending, at, "id = ?", {buildId});
    });
}

void Store::finishBuild(std::int64_t buildId, RunState state, const std::string& digest,
                        const std::string& error, bool reused, const std::vector<BuildPlatform>& platforms) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    transaction([&] {
        // The platforms stay as queued unless the end names them (with their digests).
        const SqlResult ended = db_->run(
            "UPDATE builds SET state = ?, digest = ?, error = ?, finished_at = ?, reused = ?, "
            "platforms = coalesce(?, platforms) WHERE id = ? AND state IN ('queued', 'running') AND " +
                heldBy("builds.job_id", "builds.attempt"),
            {std::string(toString(state)), textOrNull(digest), textOrNull(error), at, std::int64_t{reused ? 1 : 0},
             textOrNull(encodePlatforms(platforms)), buildId, node_.name});
        if (ended.changed == 0) {
            throw LeaseLost("build " + std::to_string(buildId) + " cannot be recorded by node " + node_.name +
                            ": its job was taken from it");
        }
        queueCommitStatuses(state == RunState::Succeeded ? CommitState::Success : CommitState::Failure, at,
                            "id = ?", {buildId});
    });
}

int Store::requeue(const std::string& condition, const std::vector<SqlValue>& params, int maxAttempts,
                   const Interruption& why, const std::string& at) {
    // The jobs first, locked (PostgreSQL): a node renewing, ending or adding
    // to one of them now waits for this transaction, or this one for its,
    // and sees the other's outcome. Then only those jobs, and only the
    // builds failed here, whatever the other nodes do meanwhile.
    const bool postgres = db_->dialect() == SqlDialect::Postgres;
    // In id order, as every node locks them: two nodes requeueing at once
    // wait for each other rather than deadlock.
    const SqlResult found = db_->run("SELECT id FROM jobs WHERE state = 'running' AND (" + condition + ") ORDER BY id" +
                                         (postgres ? " FOR UPDATE" : ""),
                                     params);
    if (found.rows.empty()) return 0;
    std::vector<SqlValue> ids;
    for (const SqlRow& row : found.rows) ids.emplace_back(columnInteger(row, 0));
    const std::string jobs = "id IN (" + placeholders(ids.size()) + ")";
    auto with = [&ids](std::vector<SqlValue> first) {
        first.insert(first.end(), ids.begin(), ids.end());
        return first;
    };
    const SqlResult failed = db_->run("UPDATE builds SET state = 'failed', error = ?, finished_at = ? "
                                      "WHERE state IN ('queued', 'running') AND job_" + jobs + " RETURNING id",
                                      with({why.buildError, at}));
    if (!failed.rows.empty()) {
        std::vector<SqlValue> builds;
        for (const SqlRow& row : failed.rows) builds.emplace_back(columnInteger(row, 0));
        queueCommitStatuses(CommitState::Error, at, "id IN (" + placeholders(builds.size()) + ")", builds);
    }
    // Interruptions are counted apart from attempts, which retries by hand raise too.
    db_->run("UPDATE jobs SET interruptions = interruptions + 1 WHERE " + jobs, ids);
    db_->run("UPDATE jobs SET state = 'failed', finished_at = ?, lease_until = NULL, "
             "error = 'interrupted ' || interruptions || ' times ' || ? || ' (builder.max_attempts = ' || ? || ')' "
             "WHERE interruptions >= ? AND " + jobs,
             with({at, why.jobCause, std::to_string(maxAttempts), std::int64_t{maxAttempts}}));
    return static_cast<int>(db_->run("UPDATE jobs SET state = 'queued', attempt = attempt + 1, started_at = NULL, "
                                     "lease_until = NULL WHERE state = 'running' AND " + jobs,
                                     ids)
                                .changed);
}

int Store::requeueInterrupted(int maxAttempts) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    // One node uses a SQLite file (the state folder's lock): whatever runs is its own.
    const bool shared = db_->dialect() == SqlDialect::Postgres;
    return transaction([&] {
        const Interruption stop{"interrupted: slipwayd stopped during the build", "by a stop of slipwayd"};
        const int requeued = shared ? requeue("node = ?", {node_.name}, maxAttempts, stop, at)
                                    : requeue("1 = 1", {}, maxAttempts, stop, at);
        // Builds left unfinished under a job that ended, by a slipwayd older than
        // finishJob's one transaction: ended now, so that their service and
        // version can build again.
        const std::string orphaned =
            "state IN ('queued', 'running') AND job_id IN (SELECT id FROM jobs WHERE state IN ('succeeded', 'failed'))";
        queueCommitStatuses(CommitState::Error, at, orphaned);
        db_->run("UPDATE builds SET state = 'failed', finished_at = ?, "
                 "error = 'not finished: its job had ended (left by an earlier slipwayd)' WHERE " + orphaned,
                 {at});
        return requeued;
    });
}

int Store::requeueExpiredLeases(int maxAttempts) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    return transaction([&] {
        const Interruption expiry{"interrupted: its node stopped renewing its lease (it stopped, froze or lost "
                                  "the database)",
                                  "by the loss of its node's lease"};
        return requeue("lease_until < ?", {at}, maxAttempts, expiry, at);
    });
}

bool Store::holdsDuty(const std::string& duty) { return holdsLock("slipway.duty." + duty); }

bool Store::claimNodeName() { return holdsLock("slipway.node." + node_.name); }

bool Store::holdsLock(const std::string& key) {
    if (db_->dialect() == SqlDialect::Sqlite) return true;
    std::lock_guard<std::mutex> lock(mutex_);
    // Taken again by the session that holds it (PostgreSQL counts each), and
    // given up only when that session ends: when its node stops or dies.
    const SqlResult held = db_->run("SELECT pg_try_advisory_lock(hashtext(?))", {key});
    return !held.rows.empty() && columnText(held.rows[0], 0) == "t";
}

void Store::queueCommitStatuses(CommitState state, const std::string& at, const std::string& condition,
                                const std::vector<SqlValue>& params) {
    std::vector<SqlValue> values = {std::string(toString(state)), at, at};
    values.insert(values.end(), params.begin(), params.end());
    db_->run("INSERT INTO commit_statuses (build_id, repo, sha, context, state, created_at, updated_at) "
             "SELECT id, repo, sha, status_context, ?, ?, ? FROM builds "
             "WHERE status_context IS NOT NULL AND (" + condition + ")",
             values);
}

std::vector<CommitStatus> Store::dueCommitStatuses(int limit, const std::vector<std::string>& skipRepos) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    return transaction([&] {
        db_->run("UPDATE commit_statuses SET delivery = 'superseded', updated_at = ? WHERE delivery = 'due' AND EXISTS "
                 "(SELECT 1 FROM commit_statuses newer WHERE newer.repo = commit_statuses.repo "
                 "AND newer.sha = commit_statuses.sha AND newer.context = commit_statuses.context "
                 "AND newer.id > commit_statuses.id)",
                 {at});
        std::string sql = std::string("SELECT ") + kCommitStatusColumns + " FROM commit_statuses WHERE delivery = 'due'";
        std::vector<SqlValue> values;
        if (!skipRepos.empty()) {
            sql += " AND repo NOT IN (" + placeholders(skipRepos.size()) + ")";
            values.assign(skipRepos.begin(), skipRepos.end());
        }
        sql += " ORDER BY id LIMIT ?";
        values.push_back(std::int64_t{limit});
        std::vector<CommitStatus> due;
        for (const SqlRow& row : db_->run(sql, values).rows) due.push_back(readCommitStatus(row));
        return due;
    });
}

void Store::recordStatusAttempt(std::int64_t id, StatusDelivery delivery, const std::string& detail) {
    std::lock_guard<std::mutex> lock(mutex_);
    db_->run("UPDATE commit_statuses SET delivery = ?, detail = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
             {std::string(toString(delivery)), detail, now(), id});
}

Store::Pruned Store::pruneHistory(const std::optional<Poco::Timestamp>& before, std::int64_t keepBuilds) {
    // In batches, each a transaction of its own: a first prune of years of
    // history must not hold the lock that webhooks (and the watchdog) wait on.
    constexpr int kBatch = 500;
    const std::string cutoff = before ? formatRfc3339(*before) : std::string();
    Pruned pruned;
    // Builds below this id are past the newest keepBuilds finished ones:
    // found once, so that each batch walks the index rather than ranks them all.
    std::int64_t below = 0;
    // The jobs whose builds went, for the last step. A temporary table lives
    // as long as its connection: one opened again meanwhile starts it empty,
    // and those jobs wait for their finished_at to pass the cutoff.
    const char* const prunedJobs = "CREATE TEMP TABLE IF NOT EXISTS pruned_jobs (id BIGINT PRIMARY KEY)";
    {
        std::lock_guard<std::mutex> lock(mutex_);
        db_->run(prunedJobs);
        db_->run("DELETE FROM pruned_jobs");
        if (keepBuilds > 0) {
            const SqlResult boundary = db_->run(
                "SELECT id FROM builds WHERE state IN ('succeeded', 'failed') ORDER BY id DESC LIMIT 1 OFFSET ?",
                {keepBuilds - 1});
            if (!boundary.rows.empty()) below = columnInteger(boundary.rows[0], 0);
        }
    }
    for (;;) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::int64_t> removed;
        const std::int64_t selected = transaction([&] {
            removed.clear();  // a transaction run again starts over
            db_->run(prunedJobs);
            db_->run("CREATE TEMP TABLE IF NOT EXISTS pruned_builds (id BIGINT PRIMARY KEY)");
            db_->run("DELETE FROM pruned_builds");
            // Never the newest finished build of a service, one whose job is still
            // to run or running (a rerun keeps its succeeded builds), nor one whose
            // commit status GitHub is still to get.
            const std::int64_t count =
                db_->run("INSERT INTO pruned_builds (id) "
                         "SELECT b.id FROM builds AS b WHERE b.state IN ('succeeded', 'failed') "
                         "AND b.id NOT IN (SELECT max(id) FROM builds WHERE state IN ('succeeded', 'failed') "
                         "GROUP BY repo, service) "
                         "AND b.job_id NOT IN (SELECT id FROM jobs WHERE state IN ('queued', 'running')) "
                         "AND coalesce((SELECT s.delivery FROM commit_statuses s WHERE s.build_id = b.id "
                         "ORDER BY s.id DESC LIMIT 1), '') <> 'due' "
                         "AND ((? <> '' AND b.finished_at < ?) OR b.id < ?) "
                         "ORDER BY b.id LIMIT ?",
                         {cutoff, cutoff, below, std::int64_t{kBatch}})
                    .changed;
            for (const SqlRow& row : db_->run("SELECT id FROM pruned_builds ORDER BY id").rows) {
                removed.push_back(columnInteger(row, 0));
            }
            db_->run("DELETE FROM commit_statuses WHERE build_id IN (SELECT id FROM pruned_builds)");
            db_->run("DELETE FROM build_log_chunks WHERE build_id IN (SELECT id FROM pruned_builds)");
            db_->run("INSERT INTO pruned_jobs (id) SELECT DISTINCT job_id FROM builds "
                     "WHERE id IN (SELECT id FROM pruned_builds) ON CONFLICT DO NOTHING");
            db_->run("DELETE FROM builds WHERE id IN (SELECT id FROM pruned_builds)");
            return count;
        });
        pruned.builds.insert(pruned.builds.end(), removed.begin(), removed.end());
        if (selected < kBatch) break;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    transaction([&] {
        db_->run(prunedJobs);
        pruned.jobs = db_->run("DELETE FROM jobs WHERE state IN ('succeeded', 'failed') "
                               "AND NOT EXISTS (SELECT 1 FROM builds WHERE builds.job_id = jobs.id) "
                               "AND (id IN (SELECT id FROM pruned_jobs) OR (? <> '' AND finished_at < ?))",
                               {cutoff, cutoff})
                          .changed;
        db_->run("DELETE FROM pruned_jobs");
        if (before) {
            pruned.deliveries = db_->run("DELETE FROM deliveries WHERE received_at < ? "
                                         "AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.delivery_id = deliveries.id)",
                                         {cutoff})
                                    .changed;
        }
    });
    return pruned;
}

void Store::appendLog(std::int64_t buildId, const LogChunk& chunk) {
    std::lock_guard<std::mutex> lock(mutex_);
    db_->run("INSERT INTO build_log_chunks (build_id, seq, data, last) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
             {buildId, std::int64_t{chunk.seq}, SqlBlob{chunk.data}, std::int64_t{chunk.last ? 1 : 0}});
}

std::vector<LogChunk> Store::logChunks(std::int64_t buildId, int afterSeq) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<LogChunk> chunks;
    for (const SqlRow& row : db_->run("SELECT seq, data, last FROM build_log_chunks WHERE build_id = ? AND seq > ? "
                                      "ORDER BY seq",
                                      {buildId, std::int64_t{afterSeq}})
                                 .rows) {
        chunks.push_back({static_cast<int>(columnInteger(row, 0)), columnText(row, 1), columnInteger(row, 2) != 0});
    }
    return chunks;
}

std::vector<std::int64_t> Store::existingBuilds(const std::vector<std::int64_t>& ids) {
    constexpr std::size_t kBatch = 500;  // bound parameters per statement
    std::vector<std::int64_t> found;
    for (std::size_t from = 0; from < ids.size(); from += kBatch) {
        const std::vector<SqlValue> batch(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                          ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), from + kBatch)));
        std::lock_guard<std::mutex> lock(mutex_);
        for (const SqlRow& row :
             db_->run("SELECT id FROM builds WHERE id IN (" + placeholders(batch.size()) + ")", batch).rows) {
            found.push_back(columnInteger(row, 0));
        }
    }
    return found;
}

std::int64_t Store::newestBuildId() {
    std::lock_guard<std::mutex> lock(mutex_);
    return columnInteger(db_->run("SELECT max(id) FROM builds").rows.at(0), 0);
}

std::string Store::instanceId() {
    std::lock_guard<std::mutex> lock(mutex_);
    return columnText(db_->run("SELECT id FROM instance").rows.at(0), 0);
}

void Store::abandonCommitStatus(std::int64_t id, const std::string& why) {
    std::lock_guard<std::mutex> lock(mutex_);
    db_->run("UPDATE commit_statuses SET delivery = 'abandoned', detail = ?, updated_at = ? WHERE id = ?",
             {why, now(), id});
}

std::optional<CommitStatus> Store::commitStatusOf(std::int64_t buildId) {
    std::lock_guard<std::mutex> lock(mutex_);
    const SqlResult found = db_->run(std::string("SELECT ") + kCommitStatusColumns +
                                         " FROM commit_statuses WHERE build_id = ? ORDER BY id DESC LIMIT 1",
                                     {buildId});
    if (found.rows.empty()) return std::nullopt;
    return readCommitStatus(found.rows.front());
}

std::optional<Build> Store::build(std::int64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    const SqlResult found = db_->run(std::string("SELECT ") + kBuildColumns + " FROM builds WHERE id = ?", {id});
    if (found.rows.empty()) return std::nullopt;
    return readBuild(found.rows.front());
}

std::optional<Job> Store::job(std::int64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    const SqlResult found = db_->run(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?", {id});
    if (found.rows.empty()) return std::nullopt;
    return readJob(found.rows.front());
}

std::vector<Build> Store::buildsOfJob(std::int64_t jobId) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Build> builds;
    for (const SqlRow& row :
         db_->run(std::string("SELECT ") + kBuildColumns + " FROM builds WHERE job_id = ? ORDER BY id", {jobId}).rows) {
        builds.push_back(readBuild(row));
    }
    return builds;
}

std::vector<Build> Store::findBuilds(const BuildQuery& query) {
    // Only fixed fragments are joined; every value is bound.
    std::string sql = std::string("SELECT ") + kBuildColumns + " FROM builds WHERE 1 = 1";
    std::vector<SqlValue> values;
    auto where = [&](const std::string& value, const char* fragment) {
        if (value.empty()) return;
        sql += fragment;
        values.push_back(value);
    };
    where(query.repo, " AND repo = ?");
    where(query.service, " AND service = ?");
    where(query.node, " AND node = ?");
    if (query.state) where(toString(*query.state), " AND state = ?");
    if (!query.shaPrefix.empty()) {
        // SHAs are lowercase hex and 'g' sorts after every hex digit, so this
        // range is exactly the SHAs starting with the prefix, and uses the index.
        where(query.shaPrefix, " AND sha >= ?");
        where(query.shaPrefix + "g", " AND sha < ?");
    }
    // One node queues builds in id order, so a time window is also an id
    // window, found with two lookups in the queued_at index; the page then
    // walks ids newest first, and SQLite's unary + keeps it from sorting the
    // window by queued_at instead. Several nodes take ids from one sequence
    // and times from their own clocks, in transactions that overlap: there
    // the window is the times themselves.
    const bool sqlite = db_->dialect() == SqlDialect::Sqlite;
    where(query.since, sqlite ? " AND +queued_at >= ?" : " AND queued_at >= ?");
    where(query.until, sqlite ? " AND +queued_at < ?" : " AND queued_at < ?");
    std::int64_t before = query.before;
    std::int64_t from = 0;

    std::lock_guard<std::mutex> lock(mutex_);
    if (sqlite && !query.since.empty()) {
        const SqlResult first =
            db_->run("SELECT id FROM builds WHERE queued_at >= ? ORDER BY queued_at LIMIT 1", {query.since});
        if (first.rows.empty()) return {};
        from = columnInteger(first.rows[0], 0);
    }
    if (sqlite && !query.until.empty()) {
        const SqlResult last =
            db_->run("SELECT id FROM builds WHERE queued_at < ? ORDER BY queued_at DESC LIMIT 1", {query.until});
        if (last.rows.empty()) return {};
        const std::int64_t bound = columnInteger(last.rows[0], 0) + 1;
        before = before > 0 ? std::min(before, bound) : bound;
    }
    if (from > 0) {
        sql += " AND id >= ?";
        values.push_back(from);
    }
    if (before > 0) {
        sql += " AND id < ?";
        values.push_back(before);
    }
    sql += " ORDER BY id DESC LIMIT ?";
    values.push_back(std::int64_t{query.limit});
    std::vector<Build> builds;
    for (const SqlRow& row : db_->run(sql, values).rows) builds.push_back(readBuild(row));
    return builds;
}

std::int64_t Store::countOwnBuilds(RunState state) {
    std::lock_guard<std::mutex> lock(mutex_);
    return columnInteger(
        db_->run("SELECT count(*) FROM builds WHERE state = ? AND node = ?", {std::string(toString(state)), node_.name})
            .rows.at(0),
        0);
}

std::int64_t Store::countJobs(RunState state) {
    std::lock_guard<std::mutex> lock(mutex_);
    return columnInteger(db_->run("SELECT count(*) FROM jobs WHERE state = ?", {std::string(toString(state))}).rows.at(0), 0);
}

void Store::checkWritable() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (db_->dialect() == SqlDialect::Sqlite) {
        // BEGIN IMMEDIATE takes the write lock, which is what a webhook would need.
        SqlTransaction tx(*db_, true);
        return;
    }
    // A standby (read-only, in recovery) takes no webhook either.
    const SqlResult recovery = db_->run("SELECT pg_is_in_recovery()");
    if (columnText(recovery.rows.at(0), 0) != "f") {
        throw SqlError(SqlFailure::Unavailable, "PostgreSQL is a standby in recovery: it accepts no writes");
    }
}

std::vector<Delivery> Store::recentDeliveries(int limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    // In the order they came: SQLite's rowid, PostgreSQL's seq.
    const std::string order = db_->dialect() == SqlDialect::Sqlite ? "rowid" : "seq";
    const SqlResult found = db_->run(
        "SELECT id, event, action, repo, outcome, detail, received_at FROM deliveries ORDER BY " + order +
            " DESC LIMIT ?",
        {std::int64_t{limit}});
    std::vector<Delivery> deliveries;
    for (const SqlRow& row : found.rows) {
        Delivery d;
        d.id = columnText(row, 0);
        d.event = columnText(row, 1);
        d.action = columnText(row, 2);
        d.repo = columnText(row, 3);
        d.outcome = enumColumn(row, 4, parseDeliveryOutcome, "delivery", "outcome", d.id);
        d.detail = columnText(row, 5);
        d.receivedAt = columnText(row, 6);
        for (const SqlRow& job : db_->run("SELECT id FROM jobs WHERE delivery_id = ? ORDER BY id", {d.id}).rows) {
            d.jobIds.push_back(columnInteger(job, 0));
        }
        for (const SqlRow& build : db_->run("SELECT id FROM builds WHERE delivery_id = ? ORDER BY id", {d.id}).rows) {
            d.buildIds.push_back(columnInteger(build, 0));
        }
        deliveries.push_back(std::move(d));
    }
    return deliveries;
}

}  // namespace slipway
