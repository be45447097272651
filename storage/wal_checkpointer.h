#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>

struct sqlite3;

namespace slipway {

// Moves a WAL database's checkpoints off the path of its commits.
//
// SQLite's own automatic checkpoint runs in the thread that committed, once
// the log passes 1,000 pages: it copies them into the database file and
// syncs it while every delivery queued behind that commit waits. Under a
// steady stream of webhooks that was ~30 times a second and set the 99th
// percentile latency (bench/webhook_ingest.sh).
//
// Here a thread of its own, on a connection of its own, runs passive
// checkpoints (which never block a writer) each time the log has grown by
// `backgroundPages`; commits do not wait for those. A passive checkpoint
// cannot restart the log while commits keep appending to it, so the log
// would grow without end under a steady stream. Once it holds `inlinePages`,
// the thread is woken for one more checkpoint, and the first commit after
// that one has ended checkpoints the log itself: it copies only what commits
// added while the thread copied, and lets the next commit start the log
// over (when the thread copied it whole, the next commit does so with no
// copy at all). That commit, and the deliveries queued behind it, do wait, a
// few times a second under load: ~1.3 ms, where taking its turn behind the
// thread's checkpoint in flight and copying what that had not took ~2.9.
// Past twice `inlinePages` a commit checkpoints whatever the thread does.
// No checkpoint copies past the oldest snapshot another connection reads;
// while one is held open the log grows, and a warning says so.
class WalCheckpointer {
public:
    struct Limits {
        // Chosen with bench/webhook_ingest.sh (bench/README.md has the runs
        // against SQLite's own checkpoint and against other limits).
        int backgroundPages = 500;
        int inlinePages = 8000;  // the log's bound, in pages; never twice that but for an old snapshot
    };

    // Takes over checkpointing from `db` (a connection in WAL mode to the
    // database file at `path`) until destroyed. `db` must outlive this.
    WalCheckpointer(SQLite::Database& db, const std::string& path, Limits limits);
    WalCheckpointer(SQLite::Database& db, const std::string& path) : WalCheckpointer(db, path, Limits{}) {}
    // Stops the thread, after a checkpoint in flight ends, and gives
    // checkpointing back to SQLite's automatic one.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Checkpoints that succeeded so far on the thread, and in committing
    // threads (one that found nothing new to copy counts too).
    std::size_t backgroundCheckpoints();
    std::size_t inlineCheckpoints();

private:
    // sqlite3_wal_hook's callback: runs in the committing thread after each commit.
    static int afterCommit(void* self, sqlite3* db, const char* schema, int logPages);
    void committed(sqlite3* db, const char* schema, int logPages);
    // The commit's own checkpoint, once the log reached the limit.
    void catchUp(sqlite3* db, const char* schema, int logPages);
    void wakeThread();
    // No checkpoint runs on the thread, and none is asked of it.
    bool threadIdle();
    void run();
    // A passive checkpoint through `db`, once no other of this one's runs;
    // logs a failure (saying `where`), sets `left` (if given) to the pages it
    // could not copy, and returns SQLite's code.
    int checkpoint(sqlite3* db, const char* schema, const char* where, int* left);

    SQLite::Database& db_;
    SQLite::Database own_;
    const Limits limits_;
    // Touched only in commits (afterCommit), which SQLite runs with `db_` held.
    int nextWake_;
    int lastLogPages_ = 0;
    int catchUpFrom_;          // `inlinePages`, or more while the log cannot be copied whole
    bool catchingUp_ = false;  // the log reached catchUpFrom_; the thread was woken for it
    bool pinned_ = false;      // said so in the log, once until the log starts over

    std::mutex checkpointing_;  // held through each checkpoint (see checkpoint())
    std::mutex mutex_;          // for what follows
    std::condition_variable wanted_;
    bool pending_ = false;
    bool running_ = false;
    bool stopping_ = false;
    std::size_t background_ = 0;
    std::size_t inline_ = 0;
    std::thread thread_;  // started last in the constructor, once `own_` is ready
};

}  // namespace slipway
