#include "storage/wal_checkpointer.h"

#include <Poco/Logger.h>
#include <sqlite3.h>

namespace slipway {
namespace {

// SQLite's default wal_autocheckpoint, which the daemon never changes.
constexpr int kSqliteAutocheckpointPages = 1000;

// SQLITE_BUSY is a checkpoint that gave way to another: nothing went wrong.
void reportFailure(int rc, const char* where) {
    if (rc == SQLITE_OK || rc == SQLITE_BUSY) return;
    static Poco::Logger& log = Poco::Logger::get("slipway.storage");
    log.error(std::string("checkpoint of the write-ahead log (") + where + ") failed: " + sqlite3_errstr(rc));
}

}  // namespace

WalCheckpointer::WalCheckpointer(SQLite::Database& db, const std::string& path, Limits limits)
    : db_(db), own_(path, SQLite::OPEN_READWRITE), limits_(limits), nextWake_(limits.backgroundPages),
      catchUpFrom_(limits.inlinePages) {
    // A checkpoint syncs what it copied as the connection running it is told to.
    own_.exec("PRAGMA synchronous = FULL");
    // A connection checkpoints only a log it has opened, which its first read
    // does; before that sqlite3_wal_checkpoint_v2 succeeds doing nothing.
    own_.execAndGet("SELECT count(*) FROM sqlite_schema");
    thread_ = std::thread([this] { run(); });
    // Replaces SQLite's automatic checkpoint, which is a hook of this same kind
    // (so a PRAGMA wal_autocheckpoint on `db` would uninstall this one).
    sqlite3_wal_hook(db_.getHandle(), &WalCheckpointer::afterCommit, this);
}

WalCheckpointer::~WalCheckpointer() {
    // Takes the connection's mutex: no commit is in afterCommit once it returns.
    sqlite3_wal_autocheckpoint(db_.getHandle(), kSqliteAutocheckpointPages);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wanted_.notify_one();
    thread_.join();
}

int WalCheckpointer::afterCommit(void* self, sqlite3* db, const char* schema, int logPages) {
    static_cast<WalCheckpointer*>(self)->committed(db, schema, logPages);
    // As SQLite's own hook does: the commit stands whatever the checkpoint met
    // (a failed one is logged, and its pages stay in the log).
    return SQLITE_OK;
}

void WalCheckpointer::committed(sqlite3* db, const char* schema, int logPages) {
    if (logPages < lastLogPages_) {  // the log started over
        nextWake_ = limits_.backgroundPages;
        catchUpFrom_ = limits_.inlinePages;
        catchingUp_ = false;
        pinned_ = false;
    }
    lastLogPages_ = logPages;
    if (logPages >= catchUpFrom_) {
        if (!catchingUp_) {
            // One more checkpoint on the thread first, so that the commit's
            // own copies only what the next few commits add meanwhile.
            catchingUp_ = true;
            wakeThread();
        } else if (threadIdle() || logPages >= catchUpFrom_ + limits_.inlinePages) {
            // Past the limit twice over, the thread's checkpoints are not
            // keeping up: this one waits for the one in flight rather than let
            // the log grow.
            catchingUp_ = false;
            catchUp(db, schema, logPages);
        }
    } else if (logPages >= nextWake_) {
        nextWake_ = logPages + limits_.backgroundPages;
        wakeThread();
    }
}

void WalCheckpointer::catchUp(sqlite3* db, const char* schema, int logPages) {
    int left = 0;
    const int rc = checkpoint(db, schema, "in a commit", &left);
    if (rc == SQLITE_OK) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++inline_;
    }
    if (rc == SQLITE_OK && left == 0) return;  // the next commit starts the log over
    // Trying again at every commit would stall each one for nothing: again
    // once the log has grown by backgroundPages.
    catchUpFrom_ = logPages + limits_.backgroundPages;
    // Another connection's old snapshot (a transaction left open in a sqlite3
    // shell, a backup) kept the rest in the log, or another process's
    // checkpoint held the lock (a failure was logged by checkpoint()).
    if (!pinned_ && (rc == SQLITE_OK || rc == SQLITE_BUSY)) {
        pinned_ = true;
        static Poco::Logger& log = Poco::Logger::get("slipway.storage");
        log.warning("the write-ahead log (" + std::to_string(logPages) +
                    " pages) cannot be copied into the database whole: another connection holds an old "
                    "snapshot open, or another process checkpoints it; it grows until that ends");
    }
}

void WalCheckpointer::wakeThread() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_ = true;
    }
    wanted_.notify_one();
}

bool WalCheckpointer::threadIdle() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !pending_ && !running_;
}

void WalCheckpointer::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wanted_.wait(lock, [this] { return pending_ || stopping_; });
        if (stopping_) return;
        pending_ = false;
        running_ = true;
        lock.unlock();
        const int rc = checkpoint(own_.getHandle(), nullptr, "on its own thread", nullptr);
        lock.lock();
        running_ = false;
        if (rc == SQLITE_OK) ++background_;
    }
}

int WalCheckpointer::checkpoint(sqlite3* db, const char* schema, const char* where, int* left) {
    std::lock_guard<std::mutex> one(checkpointing_);
    int logged = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied);
    reportFailure(rc, where);
    if (left) *left = logged - copied;
    return rc;
}

std::size_t WalCheckpointer::backgroundCheckpoints() {
    std::lock_guard<std::mutex> lock(mutex_);
    return background_;
}

std::size_t WalCheckpointer::inlineCheckpoints() {
    std::lock_guard<std::mutex> lock(mutex_);
    return inline_;
}

}  // namespace slipway
