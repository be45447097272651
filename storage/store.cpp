#include "storage/store.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "storage/database.h"

namespace slipway {
namespace {

std::string text(const SQLite::Column& column) {
    return column.isNull() ? std::string() : column.getString();
}

void bindOptional(SQLite::Statement& stmt, int index, const std::string& value) {
    if (value.empty()) {
        stmt.bind(index);  // NULL
    } else {
        stmt.bind(index, value);
    }
}

const char* const kJobColumns =
    "id, delivery_id, repo, sha, state, error, attempt, queued_at, started_at, finished_at";

Job readJob(SQLite::Statement& stmt) {
    Job job;
    job.id = stmt.getColumn(0).getInt64();
    job.deliveryId = text(stmt.getColumn(1));
    job.repo = text(stmt.getColumn(2));
    job.sha = text(stmt.getColumn(3));
    job.state = text(stmt.getColumn(4));
    job.error = text(stmt.getColumn(5));
    job.attempt = stmt.getColumn(6).getInt();
    job.queuedAt = text(stmt.getColumn(7));
    job.startedAt = text(stmt.getColumn(8));
    job.finishedAt = text(stmt.getColumn(9));
    return job;
}

const char* const kBuildColumns =
    "id, job_id, delivery_id, repo, sha, service, version, image, state, digest, error, attempt, "
    "queued_at, started_at, finished_at";

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
    b.state = text(stmt.getColumn(8));
    b.digest = text(stmt.getColumn(9));
    b.error = text(stmt.getColumn(10));
    b.attempt = stmt.getColumn(11).getInt();
    b.queuedAt = text(stmt.getColumn(12));
    b.startedAt = text(stmt.getColumn(13));
    b.finishedAt = text(stmt.getColumn(14));
    return b;
}

}  // namespace

Store::Store(const std::string& path, const Clock& clock) : clock_(clock), db_(openDatabase(path)) {}

std::string Store::now() const { return formatRfc3339(clock_.now()); }

RecordedDelivery Store::recordDelivery(Delivery delivery, const std::vector<JobRequest>& jobs) {
    std::lock_guard<std::mutex> lock(mutex_);
    RecordedDelivery result;
    const std::string at = now();
    SQLite::Transaction tx(db_);

    SQLite::Statement insertDelivery(
        db_,
        "INSERT INTO deliveries (id, event, action, repo, outcome, detail, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING");
    insertDelivery.bind(1, delivery.id);
    insertDelivery.bind(2, delivery.event);
    bindOptional(insertDelivery, 3, delivery.action);
    bindOptional(insertDelivery, 4, delivery.repo);
    insertDelivery.bind(5, delivery.outcome);
    bindOptional(insertDelivery, 6, delivery.detail);
    insertDelivery.bind(7, at);
    if (insertDelivery.exec() == 0) {
        result.duplicate = true;
        return result;  // the transaction rolls back; nothing was written
    }

    SQLite::Statement insertJob(
        db_,
        "INSERT INTO jobs (delivery_id, repo, sha, state, queued_at) VALUES (?, ?, ?, 'queued', ?) "
        "ON CONFLICT (repo, sha) WHERE state IN ('queued', 'running') DO NOTHING");
    SQLite::Statement findPending(
        db_, "SELECT id FROM jobs WHERE repo = ? AND sha = ? AND state IN ('queued', 'running')");
    for (const JobRequest& request : jobs) {
        insertJob.reset();
        insertJob.bind(1, delivery.id);
        insertJob.bind(2, request.repo);
        insertJob.bind(3, request.sha);
        insertJob.bind(4, at);
        if (insertJob.exec() == 1) {
            result.queued.push_back(db_.getLastInsertRowid());
            continue;
        }
        findPending.reset();
        findPending.bind(1, request.repo);
        findPending.bind(2, request.sha);
        if (findPending.executeStep()) result.pending.push_back(findPending.getColumn(0).getInt64());
    }
    if (!jobs.empty() && result.queued.empty()) {
        // Every commit it names is already waiting or building: say so, queue nothing.
        SQLite::Statement outcome(db_, "UPDATE deliveries SET outcome = 'pending' WHERE id = ?");
        outcome.bind(1, delivery.id);
        outcome.exec();
    }
    tx.commit();
    return result;
}

std::optional<Job> Store::claimJob() {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(
        db_, std::string("UPDATE jobs SET state = 'running', started_at = ?, finished_at = NULL "
                         "WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1) "
                         "RETURNING ") + kJobColumns);
    stmt.bind(1, now());
    if (!stmt.executeStep()) return std::nullopt;
    Job job = readJob(stmt);
    while (stmt.executeStep()) {
    }
    return job;
}

void Store::finishJob(std::int64_t jobId, const std::string& state, const std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, "UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ?");
    stmt.bind(1, state);
    bindOptional(stmt, 2, error);
    stmt.bind(3, now());
    stmt.bind(4, jobId);
    stmt.exec();
}

std::int64_t Store::addBuild(const Build& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(
        db_,
        "INSERT INTO builds (job_id, delivery_id, repo, sha, service, version, image, state, error, "
        "attempt, queued_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    stmt.bind(1, build.jobId);
    bindOptional(stmt, 2, build.deliveryId);
    stmt.bind(3, build.repo);
    stmt.bind(4, build.sha);
    stmt.bind(5, build.service);
    stmt.bind(6, build.version);
    stmt.bind(7, build.image);
    stmt.bind(8, build.state.empty() ? std::string(kQueued) : build.state);
    bindOptional(stmt, 9, build.error);
    stmt.bind(10, build.attempt);
    const std::string at = now();
    stmt.bind(11, at);
    bindOptional(stmt, 12, build.state == kFailed ? at : std::string());
    stmt.exec();
    return db_.getLastInsertRowid();
}

std::int64_t Store::addFailedBuild(const Build& build) {
    Build failed = build;
    failed.state = kFailed;
    return addBuild(failed);
}

void Store::startBuild(std::int64_t buildId) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, "UPDATE builds SET state = 'running', started_at = ? WHERE id = ?");
    stmt.bind(1, now());
    stmt.bind(2, buildId);
    stmt.exec();
}

void Store::finishBuild(std::int64_t buildId, const std::string& state, const std::string& digest,
                        const std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(
        db_, "UPDATE builds SET state = ?, digest = ?, error = ?, finished_at = ? WHERE id = ?");
    stmt.bind(1, state);
    bindOptional(stmt, 2, digest);
    bindOptional(stmt, 3, error);
    stmt.bind(4, now());
    stmt.bind(5, buildId);
    stmt.exec();
}

int Store::requeueInterrupted() {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    SQLite::Statement failBuilds(
        db_,
        "UPDATE builds SET state = 'failed', error = 'interrupted: slipwayd stopped during the build', "
        "finished_at = ? WHERE state IN ('queued', 'running') "
        "AND job_id IN (SELECT id FROM jobs WHERE state = 'running')");
    failBuilds.bind(1, now());
    failBuilds.exec();
    const int requeued = db_.exec(
        "UPDATE jobs SET state = 'queued', attempt = attempt + 1, started_at = NULL "
        "WHERE state = 'running'");
    tx.commit();
    return requeued;
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

std::vector<Build> Store::recentBuilds(int limit, std::int64_t before) {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement stmt(db_, std::string("SELECT ") + kBuildColumns +
                                    " FROM builds WHERE (?1 <= 0 OR id < ?1) ORDER BY id DESC LIMIT ?2");
    stmt.bind(1, before);
    stmt.bind(2, limit);
    std::vector<Build> builds;
    while (stmt.executeStep()) builds.push_back(readBuild(stmt));
    return builds;
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
        d.outcome = text(stmt.getColumn(4));
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
