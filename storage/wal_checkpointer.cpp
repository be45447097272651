#include "storage/wal_checkpointer.h"

#include <sqlite3.h>

namespace slipway {
namespace {

// SQLite's default wal_autocheckpoint.
constexpr int kSqliteAutocheckpointPages = 1000;

}  // namespace

WalCheckpointer::WalCheckpointer(SQLite::Database& db, const std::string& path, Limits limits)
    : db_(db),
      own_(path, SQLite::OPEN_READWRITE),
      limits_(limits),
      nextWake_(limits.backgroundPages),
      thread_([this] { run(); }) {
    // A checkpoint syncs what it copied as the connection running it is told to.
    own_.exec("PRAGMA synchronous = FULL");
    // Replaces SQLite's automatic checkpoint, which is a hook of this same kind.
    sqlite3_wal_hook(db_.getHandle(), &WalCheckpointer::afterCommit, this);
}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_autocheckpoint(db_.getHandle(), kSqliteAutocheckpointPages);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wanted_.notify_one();
    thread_.join();
}

int WalCheckpointer::afterCommit(void* self, sqlite3* db, const char* schema, int logPages) {
    auto& checkpointer = *static_cast<WalCheckpointer*>(self);
    if (logPages < checkpointer.lastLogPages_) checkpointer.nextWake_ = checkpointer.limits_.backgroundPages;  // restarted
    checkpointer.lastLogPages_ = logPages;
    if (logPages >= checkpointer.limits_.inlinePages) {
        // After the thread's checkpoint in flight, if any: two never run at
        // once, and a commit that found one running would leave the log to grow.
        std::lock_guard<std::mutex> one(checkpointer.checkpointing_);
        if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) == SQLITE_OK) {
            std::lock_guard<std::mutex> lock(checkpointer.mutex_);
            ++checkpointer.inline_;
        }
    } else if (logPages >= checkpointer.nextWake_) {
        checkpointer.nextWake_ = logPages + checkpointer.limits_.backgroundPages;
        {
            std::lock_guard<std::mutex> lock(checkpointer.mutex_);
            checkpointer.pending_ = true;
        }
        checkpointer.wanted_.notify_one();
    }
    // As SQLite's own hook does: the commit stands whatever the checkpoint met;
    // an I/O error there is the next write's error too.
    return SQLITE_OK;
}

void WalCheckpointer::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wanted_.wait(lock, [this] { return pending_ || stopping_; });
        if (stopping_) return;
        pending_ = false;
        lock.unlock();
        int rc;
        {
            std::lock_guard<std::mutex> one(checkpointing_);
            rc = sqlite3_wal_checkpoint_v2(own_.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        }
        lock.lock();
        if (rc == SQLITE_OK) ++background_;
    }
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
