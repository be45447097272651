#include "storage/store.h"

#include <algorithm>
#include <stdexcept>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "storage/database.h"

namespace slipway {
namespace {

std::string text(const SQLite::Column& column) {
    return column.isNull() ? std::string() : column.getString();
}

// A state or outcome column, as the store wrote it; a text it does not know
// (a newer slipwayd's, say) is an error that names the row, not a guess.
template <typename Enum>
Enum enumColumn(const SQLite::Column& column, std::optional<Enum> (*parse)(const std::string&), const char* what,
                const std::string& id) {
    const std::string value = text(column);
    const std::optional<Enum> parsed = parse(value);
    if (!parsed) throw std::runtime_error(std::string(what) + " " + id + " has an unknown " +
                                          column.getName() + " '" + value + "'");
    return *parsed;
}

void bindOptional(SQLite::Statement& stmt, int index, const std::string& value) {
    if (value.empty()) {
        stmt.bind(index);  // NULL
    } else {
        stmt.bind(index, value);
    }
}

const char* const kJobColumns =
    "id, delivery_id, repo, sha, state, error, attempt, queued_at, started_at, finished_at, service";

Job readJob(SQLite::Statement& stmt) {
    Job job;
    job.id = stmt.getColumn(0).getInt64();
    job.deliveryId = text(stmt.getColumn(1));
    job.repo = text(stmt.getColumn(2));
    job.sha = text(stmt.getColumn(3));
    job.state = enumColumn(stmt.getColumn(4), parseRunState, "job", std::to_string(job.id));
    job.error = text(stmt.getColumn(5));
    job.attempt = stmt.getColumn(6).getInt();
    job.queuedAt = text(stmt.getColumn(7));
    job.startedAt = text(stmt.getColumn(8));
    job.finishedAt = text(stmt.getColumn(9));
    job.service = text(stmt.getColumn(10));
    return job;
}

const char* const kBuildColumns =
    "id, job_id, delivery_id, repo, sha, service, version, image, state, digest, error, attempt, "
    "queued_at, started_at, finished_at, content_key, reused, status_context, platforms";

Build readBuild(SQLite::Statement& stmt) {
    Build b;
    b.id = stmt.getColumn(0).getInt64();
    b.jobId = stmt.getColumn(1).getInt64();
    b.deliveryId = text(stmt.getColumn(2));
    b.repo = text(stmt.getColumn(3));
    b.sha = text(stmt.getColumn(4));
    b.service = text(stmt.getColumn(5));
    b.version = text(stmt.getColumn(6));
    b.image = text(stmt.getColumn(7));
    b.state = enumColumn(stmt.getColumn(8), parseRunState, "build", std::to_string(b.id));
    b.digest = text(stmt.getColumn(9));
    b.error = text(stmt.getColumn(10));
    b.attempt = stmt.getColumn(11).getInt();
    b.queuedAt = text(stmt.getColumn(12));
    b.startedAt = text(stmt.getColumn(13));
    b.finishedAt = text(stmt.getColumn(14));
    b.contentKey = text(stmt.getColumn(15));
    b.reused = stmt.getColumn(16).getInt() != 0;
    b.statusContext = text(stmt.getColumn(17));
    b.platforms = decodePlatforms(text(stmt.getColumn(18)));
    return b;
}

const char* const kCommitStatusColumns =
    "id, build_id, repo, sha, context, state, delivery, attempts, detail, created_at, updated_at";

CommitStatus readCommitStatus(SQLite::Statement& stmt) {
    CommitStatus s;
    s.id = stmt.getColumn(0).getInt64();
    s.buildId = stmt.getColumn(1).getInt64();
    s.repo = text(stmt.getColumn(2));
    s.sha = text(stmt.getColumn(3));
    s.context = text(stmt.getColumn(4));
    const std::string id = std::to_string(s.id);
    s.state = enumColumn(stmt.getColumn(5), parseCommitState, "commit status", id);
    s.delivery = enumColumn(stmt.getColumn(6), parseStatusDelivery, "commit status", id);
    s.attempts = stmt.getColumn(7).getInt();
    s.detail = text(stmt.getColumn(8));
    s.createdAt = text(stmt.getColumn(9));
    s.updatedAt = text(stmt.getColumn(10));
    return s;
}

}  // namespace

Store::Store(const std::string& path, const Clock& clock)
    : clock_(clock), db_(openDatabase(path)), checkpointer_(db_, path) {}

std::string Store::now() const { return formatRfc3339(clock_.now()); }

RecordedDelivery Store::recordDelivery(Delivery delivery, const std::vector<JobRequest>& jobs) {
    DeliveryWrite write{std::move(delivery), &jobs, {}, nullptr};
    deliveries_.submit(write);
    if (write.failure) std::rethrow_exception(write.failure);
    return write.result;
}

void Store::recordDeliveries(const std::vector<DeliveryWrite*>& batch) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    SQLite::Transaction tx(db_);
    for (DeliveryWrite* write : batch) {
        // A delivery that fails must not take the others of its batch with it.
        statements_.use("SAVEPOINT delivery")->exec();
        try {
            write->result = insertDelivery(write->delivery, *write->jobs, at);
        } catch (const std::exception&) {
            write->failure = std::current_exception();
            statements_.use("ROLLBACK TO delivery")->exec();
        }
        statements_.use("RELEASE delivery")->exec();
    }
    tx.commit();
}

RecordedDelivery Store::insertDelivery(const Delivery& delivery, const std::vector<JobRequest>& jobs,
                                       const std::string& at) {
    RecordedDelivery result;
    // A delivery id seen before is a duplicate (GitHub's Redeliver must not
    // build twice), unless that delivery built nothing because of the
    // configuration of the time: one for a repository not configured (404)
    // or ignored. The operator who fixes the configuration then redelivers
    // it, and it is planned again, keeping the time it first came.
    const StatementCache::Use insert = statements_.use(
        "INSERT INTO deliveries (id, event, action, repo, outcome, detail, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "event = excluded.event, action = excluded.action, repo = excluded.repo, "
        "outcome = excluded.outcome, detail = excluded.detail "
        "WHERE deliveries.outcome IN ('unconfigured', 'ignored')");
    insert->bind(1, delivery.id);
    insert->bind(2, delivery.event);
    bindOptional(*insert, 3, delivery.action);
    bindOptional(*insert, 4, delivery.repo);
    insert->bind(5, toString(delivery.outcome));
    bindOptional(*insert, 6, delivery.detail);
    insert->bind(7, at);
    if (insert->exec() == 0) {
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
        const StatementCache::Use outcome = statements_.use("UPDATE deliveries SET outcome = 'pending' WHERE id = ?");
        outcome->bind(1, delivery.id);
        outcome->exec();
    }
    return result;
}

std::int64_t Store::insertJob(const std::string& deliveryId, const JobRequest& request, const std::string& at,
                             std::int64_t& pending) {
    const StatementCache::Use insert = statements_.use(
        "INSERT INTO jobs (delivery_id, repo, sha, service, attempt, state, queued_at) "
        "VALUES (?, ?, ?, ?, ?, 'queued', ?) "
        "ON CONFLICT (repo, sha, service) WHERE state IN ('queued', 'running') DO NOTHING");
    bindOptional(*insert, 1, deliveryId);
    insert->bind(2, request.repo);
    insert->bind(3, request.sha);
    insert->bind(4, request.service);  // '' for every service: part of the unique key, never NULL
    insert->bind(5, request.attempt);
    insert->bind(6, at);
    if (insert->exec() == 1) return db_.getLastInsertRowid();
    const StatementCache::Use find = statements_.use(
        "SELECT id FROM jobs WHERE repo = ? AND sha = ? AND service = ? AND state IN ('queued', 'running')");
    find->bind(1, request.repo);
    find->bind(2, request.sha);
    find->bind(3, request.service);
    if (find->executeStep()) pending = find->getColumn(0).getInt64();
    return 0;
}

std::int64_t Store::queueJob(const JobRequest& request, std::int64_t& pending) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    const std::int64_t id = insertJob("", request, now(), pending);
    tx.commit();
    return id;
}

std::optional<Job> Store::claimJob() {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(
        db_, std::string("UPDATE jobs SET state = 'running', started_at = ?, finished_at = NULL "
                         "WHERE id = (SELECT id FROM jobs AS q WHERE q.state = 'queued' "
                         // One job of a commit runs at a time: a retry of one
                         // service waits for the job of every service, whose
                         // builds of the same service and version it would meet.
                         "AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.repo = q.repo AND r.sha = q.sha "
                         "AND r.state IN ('queued', 'running') AND r.state = 'running') "
                         "ORDER BY q.id LIMIT 1) "
                         "RETURNING ") + kJobColumns);
    stmt.bind(1, now());
    if (!stmt.executeStep()) return std::nullopt;
    Job job = readJob(stmt);
    while (stmt.executeStep()) {
    }
    return job;
}

void Store::finishJob(std::int64_t jobId, RunState state, const std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    SQLite::Transaction tx(db_);
    SQLite::Statement stmt(db_, "UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ?");
    stmt.bind(1, toString(state));
    bindOptional(stmt, 2, error);
    stmt.bind(3, at);
    stmt.bind(4, jobId);
    stmt.exec();
    // A build the job did not see to its end (the store failed in between)
    // would hold the unique index of its service and version for ever.
    queueCommitStatuses(CommitState::Error, at, "job_id = ? AND state IN ('queued', 'running')", jobId);
    SQLite::Statement builds(
        db_,
        "UPDATE builds SET state = 'failed', finished_at = ?, "
        "error = 'not finished: its job ended first' || coalesce(' (' || ? || ')', '') "
        "WHERE job_id = ? AND state IN ('queued', 'running')");
    builds.bind(1, at);
    bindOptional(builds, 2, error);
    builds.bind(3, jobId);
    builds.exec();
    tx.commit();
}

std::int64_t Store::addBuild(const Build& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    SQLite::Statement stmt(
        db_,
        "INSERT INTO builds (job_id, delivery_id, repo, sha, service, version, image, state, error, "
        "attempt, queued_at, finished_at, content_key, status_context, platforms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    stmt.bind(1, build.jobId);
    bindOptional(stmt, 2, build.deliveryId);
    stmt.bind(3, build.repo);
    stmt.bind(4, build.sha);
    stmt.bind(5, build.service);
    stmt.bind(6, build.version);
    stmt.bind(7, build.image);
    stmt.bind(8, toString(build.state));
    bindOptional(stmt, 9, build.error);
    stmt.bind(10, build.attempt);
    const std::string at = now();
    stmt.bind(11, at);
    bindOptional(stmt, 12, isFinished(build.state) ? at : std::string());
    bindOptional(stmt, 13, build.contentKey);
    bindOptional(stmt, 14, build.statusContext);
    bindOptional(stmt, 15, encodePlatforms(build.platforms));
    stmt.exec();
    const std::int64_t id = db_.getLastInsertRowid();
    queueCommitStatuses(build.state == RunState::Failed ? CommitState::Failure : CommitState::Pending, at, "id = ?",
                        id);
    tx.commit();
    return id;
}

std::int64_t Store::addFailedBuild(const Build& build) {
    Build failed = build;
    failed.state = RunState::Failed;
    return addBuild(failed);
}

void Store::startBuild(std::int64_t buildId) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    SQLite::Transaction tx(db_);
    SQLite::Statement stmt(db_, "UPDATE builds SET state = 'running', started_at = ? WHERE id = ?");
    stmt.bind(1, at);
    stmt.bind(2, buildId);
    stmt.exec();
    queueCommitStatuses(CommitState::Pending, at, "id = ?", buildId);
    tx.commit();
}

void Store::finishBuild(std::int64_t buildId, RunState state, const std::string& digest,
                        const std::string& error, bool reused, const std::vector<BuildPlatform>& platforms) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    SQLite::Transaction tx(db_);
    // The platforms stay as queued unless the end names them (with their digests).
    SQLite::Statement stmt(db_,
                           "UPDATE builds SET state = ?, digest = ?, error = ?, finished_at = ?, reused = ?, "
                           "platforms = coalesce(?, platforms) WHERE id = ?");
    stmt.bind(1, toString(state));
    bindOptional(stmt, 2, digest);
    bindOptional(stmt, 3, error);
    stmt.bind(4, at);
    stmt.bind(5, reused ? 1 : 0);
    bindOptional(stmt, 6, encodePlatforms(platforms));
    stmt.bind(7, buildId);
    stmt.exec();
    queueCommitStatuses(state == RunState::Succeeded ? CommitState::Success : CommitState::Failure, at, "id = ?",
                        buildId);
    tx.commit();
}

int Store::requeueInterrupted(int maxAttempts) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string at = now();
    SQLite::Transaction tx(db_);
    const char* const interrupted = "state IN ('queued', 'running') AND job_id IN (SELECT id FROM jobs WHERE state = 'running')";
    queueCommitStatuses(CommitState::Error, at, interrupted);
    SQLite::Statement failBuilds(
        db_,
        std::string("UPDATE builds SET state = 'failed', error = 'interrupted: slipwayd stopped during the build', "
                    "finished_at = ? WHERE ") + interrupted);
    failBuilds.bind(1, at);
    failBuilds.exec();
    // Interruptions are counted apart from attempts, which retries by hand raise too.
    db_.exec("UPDATE jobs SET interruptions = interruptions + 1 WHERE state = 'running'");
    SQLite::Statement giveUp(
        db_,
        "UPDATE jobs SET state = 'failed', finished_at = ?, "
        "error = 'interrupted ' || interruptions || ' times by a stop of slipwayd (builder.max_attempts = ' || ? || ')' "
        "WHERE state = 'running' AND interruptions >= ?");
    giveUp.bind(1, at);
    giveUp.bind(2, maxAttempts);
    giveUp.bind(3, maxAttempts);
    giveUp.exec();
    const int requeued = db_.exec(
        "UPDATE jobs SET state = 'queued', attempt = attempt + 1, started_at = NULL "
        "WHERE state = 'running'");
    // Builds left unfinished under a job that ended, by a slipwayd older than
    // finishJob's one transaction: ended now, so that their service and
    // version can build again.
    const char* const orphaned =
        "state IN ('queued', 'running') AND job_id IN (SELECT id FROM jobs WHERE state IN ('succeeded', 'failed'))";
    queueCommitStatuses(CommitState::Error, at, orphaned);
    SQLite::Statement orphans(
        db_,
        std::string("UPDATE builds SET state = 'failed', finished_at = ?, "
                    "error = 'not finished: its job had ended (left by an earlier slipwayd)' WHERE ") + orphaned);
    orphans.bind(1, at);
    orphans.exec();
    tx.commit();
    return requeued;
}

void Store::queueCommitStatuses(CommitState state, const std::string& at, const std::string& condition,
                                std::optional<std::int64_t> id) {
    SQLite::Statement stmt(db_,
                           "INSERT INTO commit_statuses (build_id, repo, sha, context, state, created_at, updated_at) "
                           "SELECT id, repo, sha, status_context, ?, ?, ? FROM builds "
                           "WHERE status_context IS NOT NULL AND (" + condition + ")");
    stmt.bind(1, toString(state));
    stmt.bind(2, at);
    stmt.bind(3, at);
    if (id) stmt.bind(4, *id);
    stmt.exec();
}

std::vector<CommitStatus> Store::dueCommitStatuses(int limit, const std::vector<std::string>& skipRepos) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    SQLite::Statement supersede(
        db_,
        "UPDATE commit_statuses SET delivery = 'superseded', updated_at = ? WHERE delivery = 'due' AND EXISTS "
        "(SELECT 1 FROM commit_statuses newer WHERE newer.repo = commit_statuses.repo "
        "AND newer.sha = commit_statuses.sha AND newer.context = commit_statuses.context "
        "AND newer.id > commit_statuses.id)");
    supersede.bind(1, now());
    supersede.exec();
    std::string skipped;
    for (std::size_t i = 0; i < skipRepos.size(); ++i) skipped += i == 0 ? "?" : ", ?";
    SQLite::Statement stmt(db_, std::string("SELECT ") + kCommitStatusColumns +
                                    " FROM commit_statuses WHERE delivery = 'due' AND repo NOT IN (" + skipped +
                                    ") ORDER BY id LIMIT ?");
    int index = 1;
    for (const std::string& repo : skipRepos) stmt.bind(index++, repo);
    stmt.bind(index, limit);
    std::vector<CommitStatus> due;
    while (stmt.executeStep()) due.push_back(readCommitStatus(stmt));
    tx.commit();
    return due;
}

void Store::recordStatusAttempt(std::int64_t id, StatusDelivery delivery, const std::string& detail) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_,
                           "UPDATE commit_statuses SET delivery = ?, detail = ?, attempts = attempts + 1, "
                           "updated_at = ? WHERE id = ?");
    stmt.bind(1, toString(delivery));
    stmt.bind(2, detail);
    stmt.bind(3, now());
    stmt.bind(4, id);
    stmt.exec();
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
    {
        std::lock_guard<std::mutex> lock(mutex_);
        db_.exec("CREATE TEMP TABLE IF NOT EXISTS pruned_jobs (id INTEGER PRIMARY KEY)");
        db_.exec("DELETE FROM pruned_jobs");
        if (keepBuilds > 0) {
            SQLite::Statement boundary(db_,
                                       "SELECT id FROM builds WHERE state IN ('succeeded', 'failed') "
                                       "ORDER BY id DESC LIMIT 1 OFFSET ?");
            boundary.bind(1, keepBuilds - 1);
            if (boundary.executeStep()) below = boundary.getColumn(0).getInt64();
        }
    }
    for (;;) {
        std::lock_guard<std::mutex> lock(mutex_);
        SQLite::Transaction tx(db_);
        db_.exec("CREATE TEMP TABLE IF NOT EXISTS pruned_builds (id INTEGER PRIMARY KEY)");
        db_.exec("DELETE FROM pruned_builds");
        // Never the newest finished build of a service, one whose job is still
        // to run or running (a rerun keeps its succeeded builds), nor one whose
        // commit status GitHub is still to get.
        SQLite::Statement select(
            db_,
            "INSERT INTO pruned_builds (id) "
            "SELECT b.id FROM builds AS b WHERE b.state IN ('succeeded', 'failed') "
            "AND b.id NOT IN (SELECT max(id) FROM builds WHERE state IN ('succeeded', 'failed') GROUP BY repo, service) "
            "AND b.job_id NOT IN (SELECT id FROM jobs WHERE state IN ('queued', 'running')) "
            "AND coalesce((SELECT s.delivery FROM commit_statuses s WHERE s.build_id = b.id ORDER BY s.id DESC LIMIT 1), "
            "             '') <> 'due' "
            "AND ((? <> '' AND b.finished_at < ?) OR b.id < ?) "
            "ORDER BY b.id LIMIT ?");
        select.bind(1, cutoff);
        select.bind(2, cutoff);
        select.bind(3, below);
        select.bind(4, kBatch);
        const int selected = select.exec();
        SQLite::Statement ids(db_, "SELECT id FROM pruned_builds ORDER BY id");
        while (ids.executeStep()) pruned.builds.push_back(ids.getColumn(0).getInt64());
        db_.exec("DELETE FROM commit_statuses WHERE build_id IN (SELECT id FROM pruned_builds)");
        db_.exec("INSERT OR IGNORE INTO pruned_jobs (id) SELECT job_id FROM builds WHERE id IN (SELECT id FROM pruned_builds)");
        db_.exec("DELETE FROM builds WHERE id IN (SELECT id FROM pruned_builds)");
        tx.commit();
        if (selected < kBatch) break;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    SQLite::Statement jobs(db_,
                           "DELETE FROM jobs WHERE state IN ('succeeded', 'failed') "
                           "AND NOT EXISTS (SELECT 1 FROM builds WHERE builds.job_id = jobs.id) "
                           "AND (id IN (SELECT id FROM pruned_jobs) OR (? <> '' AND finished_at < ?))");
    jobs.bind(1, cutoff);
    jobs.bind(2, cutoff);
    pruned.jobs = jobs.exec();
    db_.exec("DELETE FROM pruned_jobs");
    if (before) {
        SQLite::Statement deliveries(db_,
                                     "DELETE FROM deliveries WHERE received_at < ? "
                                     "AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.delivery_id = deliveries.id)");
        deliveries.bind(1, cutoff);
        pruned.deliveries = deliveries.exec();
    }
    tx.commit();
    return pruned;
}

std::string Store::instanceId() {
    std::lock_guard<std::mutex> lock(mutex_);
    return db_.execAndGet("SELECT id FROM instance").getString();
}

void Store::abandonCommitStatus(std::int64_t id, const std::string& why) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, "UPDATE commit_statuses SET delivery = 'abandoned', detail = ?, updated_at = ? WHERE id = ?");
    stmt.bind(1, why);
    stmt.bind(2, now());
    stmt.bind(3, id);
    stmt.exec();
}

std::optional<CommitStatus> Store::commitStatusOf(std::int64_t buildId) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, std::string("SELECT ") + kCommitStatusColumns +
                                    " FROM commit_statuses WHERE build_id = ? ORDER BY id DESC LIMIT 1");
    stmt.bind(1, buildId);
    if (!stmt.executeStep()) return std::nullopt;
    return readCommitStatus(stmt);
}

std::optional<Build> Store::build(std::int64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, std::string("SELECT ") + kBuildColumns + " FROM builds WHERE id = ?");
    stmt.bind(1, id);
    if (!stmt.executeStep()) return std::nullopt;
    return readBuild(stmt);
}

std::optional<Job> Store::job(std::int64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?");
    stmt.bind(1, id);
    if (!stmt.executeStep()) return std::nullopt;
    return readJob(stmt);
}

std::vector<Build> Store::buildsOfJob(std::int64_t jobId) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(
        db_, std::string("SELECT ") + kBuildColumns + " FROM builds WHERE job_id = ? ORDER BY id");
    stmt.bind(1, jobId);
    std::vector<Build> builds;
    while (stmt.executeStep()) builds.push_back(readBuild(stmt));
    return builds;
}

std::vector<Build> Store::findBuilds(const BuildQuery& query) {
    // Only fixed fragments are joined; every value is bound.
    std::string sql = std::string("SELECT ") + kBuildColumns + " FROM builds WHERE 1";
    std::vector<std::string> values;
    auto where = [&](const std::string& value, const char* fragment) {
        if (value.empty()) return;
        sql += fragment;
        values.push_back(value);
    };
    where(query.repo, " AND repo = ?");
    where(query.service, " AND service = ?");
    if (query.state) where(toString(*query.state), " AND state = ?");
    if (!query.shaPrefix.empty()) {
        // SHAs are lowercase hex and 'g' sorts after every hex digit, so this
        // range is exactly the SHAs starting with the prefix, and uses the index.
        where(query.shaPrefix, " AND sha >= ?");
        where(query.shaPrefix + "g", " AND sha < ?");
    }
    // Builds are queued in id order, so a time window is also an id window, found
    // with two lookups in the queued_at index; the page then walks ids newest
    // first. The unary + keeps SQLite from sorting the window by queued_at instead.
    where(query.since, " AND +queued_at >= ?");
    where(query.until, " AND +queued_at < ?");
    std::int64_t before = query.before;
    std::int64_t from = 0;

    std::lock_guard<std::mutex> lock(mutex_);
    if (!query.since.empty()) {
        SQLite::Statement first(db_, "SELECT id FROM builds WHERE queued_at >= ? ORDER BY queued_at LIMIT 1");
        first.bind(1, query.since);
        if (!first.executeStep()) return {};
        from = first.getColumn(0).getInt64();
    }
    if (!query.until.empty()) {
        SQLite::Statement last(db_, "SELECT id FROM builds WHERE queued_at < ? ORDER BY queued_at DESC LIMIT 1");
        last.bind(1, query.until);
        if (!last.executeStep()) return {};
        const std::int64_t bound = last.getColumn(0).getInt64() + 1;
        before = before > 0 ? std::min(before, bound) : bound;
    }
    if (from > 0) sql += " AND id >= ?";
    if (before > 0) sql += " AND id < ?";
    sql += " ORDER BY id DESC LIMIT ?";

    SQLite::Statement stmt(db_, sql);
    int index = 1;
    for (const std::string& value : values) stmt.bind(index++, value);
    if (from > 0) stmt.bind(index++, from);
    if (before > 0) stmt.bind(index++, before);
    stmt.bind(index, query.limit);
    std::vector<Build> builds;
    while (stmt.executeStep()) builds.push_back(readBuild(stmt));
    return builds;
}

std::int64_t Store::countBuilds(RunState state) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, "SELECT count(*) FROM builds WHERE state = ?");
    stmt.bind(1, toString(state));
    stmt.executeStep();
    return stmt.getColumn(0).getInt64();
}

std::int64_t Store::countJobs(RunState state) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, "SELECT count(*) FROM jobs WHERE state = ?");
    stmt.bind(1, toString(state));
    stmt.executeStep();
    return stmt.getColumn(0).getInt64();
}

void Store::checkWritable() {
    std::lock_guard<std::mutex> lock(mutex_);
    // BEGIN IMMEDIATE takes the write lock, which is what a webhook would need.
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
}

std::vector<Delivery> Store::recentDeliveries(int limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(
        db_,
        "SELECT id, event, action, repo, outcome, detail, received_at FROM deliveries "
        "ORDER BY rowid DESC LIMIT ?");
    stmt.bind(1, limit);
    SQLite::Statement jobsOf(db_, "SELECT id FROM jobs WHERE delivery_id = ? ORDER BY id");
    SQLite::Statement buildsOf(db_, "SELECT id FROM builds WHERE delivery_id = ? ORDER BY id");
    std::vector<Delivery> deliveries;
    while (stmt.executeStep()) {
        Delivery d;
        d.id = text(stmt.getColumn(0));
        d.event = text(stmt.getColumn(1));
        d.action = text(stmt.getColumn(2));
        d.repo = text(stmt.getColumn(3));
        d.outcome = enumColumn(stmt.getColumn(4), parseDeliveryOutcome, "delivery", d.id);
        d.detail = text(stmt.getColumn(5));
        d.receivedAt = text(stmt.getColumn(6));
        jobsOf.reset();
        jobsOf.bind(1, d.id);
        while (jobsOf.executeStep()) d.jobIds.push_back(jobsOf.getColumn(0).getInt64());
        buildsOf.reset();
        buildsOf.bind(1, d.id);
        while (buildsOf.executeStep()) d.buildIds.push_back(buildsOf.getColumn(0).getInt64());
        deliveries.push_back(std::move(d));
    }
    return deliveries;
}

}  // namespace slipway
