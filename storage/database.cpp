#include "storage/database.h"

#include <stdexcept>
#include <vector>

#include <SQLiteCpp/Transaction.h>

#include "storage/wal_buffer_vfs.h"

namespace slipway {
namespace {

// Migration N (1-based) brings user_version from N-1 to N. Never edit a
// migration that has shipped; append a new one.
const std::vector<const char*> kMigrations = {
    R"sql(
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    action      TEXT,
    repo        TEXT,
    outcome     TEXT NOT NULL,
    detail      TEXT,
    received_at TEXT NOT NULL
);
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    delivery_id TEXT REFERENCES deliveries(id),
    repo        TEXT NOT NULL,
    sha         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    error       TEXT,
    attempt     INTEGER NOT NULL DEFAULT 1,
    interruptions INTEGER NOT NULL DEFAULT 0,  -- runs a stop or crash cut short
    service     TEXT,  -- set when the job rebuilds one service only (a retry)
    queued_at   TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT
);
-- One commit of one repository is never queued twice while it waits or runs.
CREATE UNIQUE INDEX jobs_active ON jobs (repo, sha) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_delivery ON jobs (delivery_id);
CREATE TABLE builds (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs(id),
    delivery_id TEXT,
    repo        TEXT NOT NULL,
    sha         TEXT NOT NULL,
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    image       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    digest      TEXT,
    error       TEXT,
    attempt     INTEGER NOT NULL DEFAULT 1,
    queued_at   TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT
);
CREATE UNIQUE INDEX builds_active ON builds (repo, sha, service, version)
    WHERE state IN ('queued', 'running');
CREATE INDEX builds_job ON builds (job_id);
CREATE INDEX builds_delivery ON builds (delivery_id);
-- Each index also orders by id (the rowid), so a filter plus keyset paging
-- newest-first walks one index range and stops after a page.
CREATE INDEX builds_repo ON builds (repo);
CREATE INDEX builds_service ON builds (service);
CREATE INDEX builds_state ON builds (state);
CREATE INDEX builds_sha ON builds (sha);
CREATE INDEX builds_queued_at ON builds (queued_at);
)sql",
    // Claiming the oldest queued job walked every job ever run, under the
    // store's lock that webhooks wait on too, slower with every job run
    // (bench/README.md). This index holds only the few jobs that wait.
    R"sql(
CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';
)sql",
    // Releases: what a build was made from (its content key), and whether it
    // reused an image the registry already had from that content instead of
    // building (succeeded, with the registry's digest).
    R"sql(
ALTER TABLE builds ADD COLUMN content_key TEXT;
ALTER TABLE builds ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
)sql",
    // A job that builds every service ('') and one that builds one service (a
    // retry) of the same commit are different requests: each waits or runs
    // once, and neither is answered with the other.
    R"sql(
UPDATE jobs SET service = '' WHERE service IS NULL;
DROP INDEX jobs_active;
CREATE UNIQUE INDEX jobs_active ON jobs (repo, sha, service) WHERE state IN ('queued', 'running');
)sql",
    // Commit statuses: the context a build reports under (NULL: its repository
    // reports none), and an outbox of its transitions, each row written in the
    // transaction of the transition it reports. The sender reads the due rows,
    // newest of each commit and context, through the partial index.
    R"sql(
ALTER TABLE builds ADD COLUMN status_context TEXT;
CREATE TABLE commit_statuses (
    id          INTEGER PRIMARY KEY,
    build_id    INTEGER NOT NULL REFERENCES builds(id),
    repo        TEXT NOT NULL,
    sha         TEXT NOT NULL,
    context     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'success', 'failure', 'error')),
    delivery    TEXT NOT NULL DEFAULT 'due' CHECK (delivery IN ('due', 'sent', 'superseded', 'abandoned')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX commit_statuses_due ON commit_statuses (id) WHERE delivery = 'due';
CREATE INDEX commit_statuses_context ON commit_statuses (repo, sha, context);
CREATE INDEX commit_statuses_build ON commit_statuses (build_id);
)sql",
    // Which slipwayd made an image on the engine: its builds are labelled with
    // this, so that a start removes the tags its own builds left behind and
    // never another slipwayd's on the same engine.
    R"sql(
CREATE TABLE instance (id TEXT NOT NULL);
INSERT INTO instance (id) VALUES (lower(hex(randomblob(16))));
)sql",
    // Multi-platform images: the platforms a build makes, one line each,
    // "linux/arm64" while it waits, "linux/arm64 sha256:..." once that
    // platform's image is in the registry. NULL: the engine's own platform.
    R"sql(
ALTER TABLE builds ADD COLUMN platforms TEXT;
)sql",
    // Several nodes (on PostgreSQL): the node that claimed a job and until
    // when its lease runs, renewed while it works; the node a build ran on.
    R"sql(
ALTER TABLE jobs ADD COLUMN node TEXT;
ALTER TABLE jobs ADD COLUMN lease_until TEXT;
ALTER TABLE builds ADD COLUMN node TEXT;
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX builds_node ON builds (node);
)sql",
    // Build logs where every node can read them: each node ships the log
    // files of its builds here in chunks, the last one marked. Filled only
    // when several nodes share a PostgreSQL; one node reads its own files.
    R"sql(
CREATE TABLE build_log_chunks (
    build_id INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    data     BLOB NOT NULL,
    last     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (build_id, seq)
);
)sql",
};

// The same migrations for PostgreSQL, one for one: the same tables, columns
// and indexes, in PostgreSQL's types. Ids are BIGINT where SQLite's rowids
// are 64-bit already, and deliveries keep their order of arrival in `seq`,
// which SQLite's rowid gives.
const std::vector<const char*> kPostgresMigrations = {
    R"sql(
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    action      TEXT,
    repo        TEXT,
    outcome     TEXT NOT NULL,
    detail      TEXT,
    received_at TEXT NOT NULL,
    seq         BIGSERIAL NOT NULL
);
CREATE INDEX deliveries_seq ON deliveries (seq);
CREATE TABLE jobs (
    id          BIGSERIAL PRIMARY KEY,
    delivery_id TEXT REFERENCES deliveries(id),
    repo        TEXT NOT NULL,
    sha         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    error       TEXT,
    attempt     INTEGER NOT NULL DEFAULT 1,
    interruptions INTEGER NOT NULL DEFAULT 0,
    service     TEXT,
    queued_at   TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT
);
CREATE UNIQUE INDEX jobs_active ON jobs (repo, sha) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_delivery ON jobs (delivery_id);
CREATE TABLE builds (
    id          BIGSERIAL PRIMARY KEY,
    job_id      BIGINT NOT NULL REFERENCES jobs(id),
    delivery_id TEXT,
    repo        TEXT NOT NULL,
    sha         TEXT NOT NULL,
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    image       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    digest      TEXT,
    error       TEXT,
    attempt     INTEGER NOT NULL DEFAULT 1,
    queued_at   TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT
);
CREATE UNIQUE INDEX builds_active ON builds (repo, sha, service, version)
    WHERE state IN ('queued', 'running');
CREATE INDEX builds_job ON builds (job_id);
CREATE INDEX builds_delivery ON builds (delivery_id);
CREATE INDEX builds_repo ON builds (repo, id);
CREATE INDEX builds_service ON builds (service, id);
CREATE INDEX builds_state ON builds (state, id);
CREATE INDEX builds_sha ON builds (sha);
CREATE INDEX builds_queued_at ON builds (queued_at);
)sql",
    R"sql(
CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';
)sql",
    R"sql(
ALTER TABLE builds ADD COLUMN content_key TEXT;
ALTER TABLE builds ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
)sql",
    R"sql(
UPDATE jobs SET service = '' WHERE service IS NULL;
DROP INDEX jobs_active;
CREATE UNIQUE INDEX jobs_active ON jobs (repo, sha, service) WHERE state IN ('queued', 'running');
)sql",
    R"sql(
ALTER TABLE builds ADD COLUMN status_context TEXT;
CREATE TABLE commit_statuses (
    id          BIGSERIAL PRIMARY KEY,
    build_id    BIGINT NOT NULL REFERENCES builds(id),
    repo        TEXT NOT NULL,
    sha         TEXT NOT NULL,
    context     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'success', 'failure', 'error')),
    delivery    TEXT NOT NULL DEFAULT 'due' CHECK (delivery IN ('due', 'sent', 'superseded', 'abandoned')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX commit_statuses_due ON commit_statuses (id) WHERE delivery = 'due';
CREATE INDEX commit_statuses_context ON commit_statuses (repo, sha, context);
CREATE INDEX commit_statuses_build ON commit_statuses (build_id);
)sql",
    R"sql(
CREATE TABLE instance (id TEXT NOT NULL);
INSERT INTO instance (id) VALUES (md5(random()::text || clock_timestamp()::text));
)sql",
    R"sql(
ALTER TABLE builds ADD COLUMN platforms TEXT;
)sql",
    R"sql(
ALTER TABLE jobs ADD COLUMN node TEXT;
ALTER TABLE jobs ADD COLUMN lease_until TEXT;
ALTER TABLE builds ADD COLUMN node TEXT;
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX builds_node ON builds (node, id);
)sql",
    R"sql(
CREATE TABLE build_log_chunks (
    build_id BIGINT NOT NULL,
    seq      INTEGER NOT NULL,
    data     BYTEA NOT NULL,
    last     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (build_id, seq)
);
)sql",
};

}  // namespace

int schemaVersion() { return static_cast<int>(kMigrations.size()); }

const std::vector<const char*>& postgresMigrations() {
    return kPostgresMigrations;
}

SQLite::Database openDatabase(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX, 0,
                        walBufferVfs());
    db.setBusyTimeout(5000);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");

    int version = db.execAndGet("PRAGMA user_version").getInt();
    if (version > schemaVersion()) {
        throw std::runtime_error("database " + path + " has schema version " + std::to_string(version) +
                                 ", newer than this slipway understands (" +
                                 std::to_string(schemaVersion()) + ")");
    }
    for (; version < schemaVersion(); ++version) {
        SQLite::Transaction tx(db);
        db.exec(kMigrations[static_cast<size_t>(version)]);
        db.exec("PRAGMA user_version = " + std::to_string(version + 1));
        tx.commit();
    }
    return db;
}

}  // namespace slipway
