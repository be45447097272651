#include "storage/wal_buffer_vfs.h"

#include <atomic>
#include <cerrno>
#include <fstream>
#include <string>

#include <Poco/File.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// Most of a 4 KiB page: each row is a page of its own, so a commit of N rows
// adds some N frames to the log.
constexpr int kRowBytes = 3000;

// Row `n`'s data as first written (version 0) and as updated (1).
std::string rowData(int n, int version = 0) {
    return std::string(kRowBytes, static_cast<char>((version == 0 ? 'a' : 'A') + n % 26));
}

// Write system calls this process has made so far, by all its threads.
long writeCalls() {
    std::ifstream io("/proc/self/io");
    std::string key;
    long value = 0;
    while (io >> key >> value) {
        if (key == "syscw:") return value;
    }
    ADD_FAILURE() << "/proc/self/io has no syscw";
    return -1;
}

// `vfs` null: SQLite's default. `path` may be a file: URI.
SQLite::Database openLog(const std::string& path, const char* vfs, const char* synchronous) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_URI, 0,
                        vfs == nullptr ? "" : vfs);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(std::string("PRAGMA synchronous = ") + synchronous);
    db.exec("CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, data BLOB NOT NULL)");
    return db;
}

void insertRows(SQLite::Database& db, int first, int count) {
    SQLite::Statement insert(db, "INSERT INTO rows (n, data) VALUES (?, ?)");
    for (int n = first; n < first + count; ++n) {
        const std::string data = rowData(n);
        insert.bind(1, n);
        insert.bind(2, data.data(), static_cast<int>(data.size()));
        insert.exec();
        insert.reset();
    }
}

void commitRows(SQLite::Database& db, int first, int count) {
    SQLite::Transaction tx(db);
    insertRows(db, first, count);
    tx.commit();
}

// Every row of 0..count-1 is there, whole, as `db` reads the database; those
// below `updatedBelow` updated.
void expectRows(SQLite::Database& db, int count, int updatedBelow = 0) {
    SQLite::Statement select(db, "SELECT n, data FROM rows ORDER BY n");
    int n = 0;
    while (select.executeStep()) {
        ASSERT_EQ(select.getColumn(0).getInt(), n);
        ASSERT_EQ(select.getColumn(1).getString(), rowData(n, n < updatedBelow ? 1 : 0)) << "row " << n;
        ++n;
    }
    EXPECT_EQ(n, count);
    EXPECT_EQ(db.execAndGet("PRAGMA quick_check").getString(), "ok");
}

// A connection with a cache of 10 pages: a transaction of more spills its
// pages to the log before it commits.
SQLite::Database openSpilling(const std::string& path, const char* synchronous) {
    SQLite::Database db = openLog(path, walBufferVfs(), synchronous);
    db.exec("PRAGMA cache_size = 10");
    return db;
}

class WalBufferVfsTest : public ::testing::Test {
protected:
    testing::TempDir dir_;
    const std::string path_ = dir_.path() + "/slipway.db";
};

// Write calls made by one commit of `rows` rows to the database at `path`.
long writesOfACommit(const std::string& path, const char* vfs, int rows) {
    SQLite::Database db = openLog(path, vfs, "FULL");
    commitRows(db, 0, 1);  // the log and its index are made before counting
    const long before = writeCalls();
    commitRows(db, 1, rows);
    return writeCalls() - before;
}

TEST_F(WalBufferVfsTest, ACommitReachesTheLogInAFewWritesNotTwoPerPage) {
    // 100 frames, 400 KiB: more than one write can carry.
    const long unbuffered = writesOfACommit(dir_.path() + "/plain.db", nullptr, 100);
    const long buffered = writesOfACommit(dir_.path() + "/buffered.db", walBufferVfs(), 100);
    EXPECT_GE(unbuffered, 200) << "SQLite writes a frame's header and its page apart: the count must see them";
    EXPECT_LE(buffered, 5);
    SQLite::Database reader(dir_.path() + "/buffered.db", SQLite::OPEN_READONLY);
    expectRows(reader, 101);
}

// Whatever the connection syncs, a commit's frames are in the file before
// another connection can be told of them: this reader (SQLite's default VFS,
// as the checkpointer's connection) reads them from the file.
class WalBufferVfsSyncTest : public WalBufferVfsTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(WalBufferVfsSyncTest, AnotherConnectionReadsEachCommitOnceItEnds) {
    SQLite::Database writer = openLog(path_, walBufferVfs(), GetParam());
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    for (int commit = 1; commit <= 4; ++commit) {
        commitRows(writer, (commit - 1) * 10, 10);
        expectRows(reader, commit * 10);
        // Another connection copies the log into the database and empties
        // it: the writer's next commit starts it over.
        if (commit == 2) SQLite::Database(path_, SQLite::OPEN_READWRITE).exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
}

INSTANTIATE_TEST_SUITE_P(Synchronous, WalBufferVfsSyncTest, ::testing::Values("OFF", "NORMAL", "FULL"));

TEST_F(WalBufferVfsTest, ATransactionReadsBackThePagesItSpilledToTheLog) {
    {
        SQLite::Database db = openSpilling(path_, "FULL");
        SQLite::Transaction tx(db);
        insertRows(db, 0, 200);
        expectRows(db, 200);
        tx.commit();
    }
    SQLite::Database reopened(path_, SQLite::OPEN_READONLY);
    expectRows(reopened, 200);
}

// Without power-safe overwrite SQLite pads a commit to the sector with copies
// of its last frame and syncs in the middle of one of them.
TEST_F(WalBufferVfsTest, ALogWithoutPowerSafeOverwriteIsReadWholeByAnotherConnection) {
    SQLite::Database writer = openLog("file:" + path_ + "?psow=0", walBufferVfs(), "FULL");
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    for (int commit = 1; commit <= 4; ++commit) {
        commitRows(writer, (commit - 1) * 10, 10);
        expectRows(reader, commit * 10);
    }
}

// What a crash would leave of the database at `path`: its files copied as
// they are, opened at `copy`, which recovers the log by checking each frame's
// checksum, up to the last commit whose sums hold.
SQLite::Database crashCopy(const std::string& path, const std::string& copy) {
    Poco::File(path).copyTo(copy);
    Poco::File(path + "-wal").copyTo(copy + "-wal");
    return SQLite::Database(copy, SQLite::OPEN_READWRITE);
}

// A transaction that writes a page again after spilling it to the log
// rewrites that frame in place and then the checksums of every frame after
// it, the commit frame's last: under synchronous=NORMAL no sync follows.
TEST_F(WalBufferVfsTest, ACommitThatRewritesItsFramesIsWholeInTheLogFile) {
    SQLite::Database writer = openSpilling(path_, "NORMAL");
    {
        SQLite::Transaction tx(writer);
        insertRows(writer, 0, 100);
        SQLite::Statement update(writer, "UPDATE rows SET data = ? WHERE n = ?");
        for (int n = 0; n < 50; ++n) {
            const std::string data = rowData(n, 1);
            update.bind(1, data.data(), static_cast<int>(data.size()));
            update.bind(2, n);
            update.exec();
            update.reset();
        }
        tx.commit();
    }
    SQLite::Database recovered = crashCopy(path_, dir_.path() + "/copy.db");
    expectRows(recovered, 100, 50);
    // And the small commit after it, read by another connection.
    commitRows(writer, 100, 1);
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    expectRows(reader, 101, 50);
}

// Frames a rolled-back transaction spilled to the log are where the next
// commit, by any connection, puts its own.
TEST_F(WalBufferVfsTest, ARolledBackTransactionLeavesNothingToWriteOverTheNextCommit) {
    SQLite::Database writer = openSpilling(path_, "FULL");
    // The pages the rollback reads back come from the database file, not the
    // log: nothing reads the log, which would write what it buffers, until
    // after the other connection's commit.
    writer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    {
        SQLite::Transaction rolledBack(writer);
        insertRows(writer, 0, 25);
    }
    SQLite::Database other = openLog(path_, nullptr, "FULL");
    commitRows(other, 0, 40);
    EXPECT_EQ(writer.execAndGet("SELECT count(*) FROM rows").getInt(), 40);
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    expectRows(reader, 40);
}

// ROLLBACK TO takes the log back to the savepoint's frame: the frames after
// it are written again, over the ones the rollback undid.
TEST_F(WalBufferVfsTest, FramesWrittenAgainAfterARollbackToASavepointAreTheOnesCommitted) {
    SQLite::Database writer = openSpilling(path_, "NORMAL");
    {
        SQLite::Transaction tx(writer);
        insertRows(writer, 0, 40);
        writer.exec("SAVEPOINT undone");
        insertRows(writer, 100, 40);
        writer.exec("ROLLBACK TO undone");
        insertRows(writer, 40, 20);
        tx.commit();
    }
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    expectRows(reader, 60);
    SQLite::Database recovered = crashCopy(path_, dir_.path() + "/copy.db");
    expectRows(recovered, 60);
}

// Another connection empties the log and starts it over with fewer frames
// than the writer last appended: the writer's next commit goes after that
// connection's frames, before where its own last ones ended.
TEST_F(WalBufferVfsTest, ALogAnotherConnectionStartedOverTakesTheWritersNextCommit) {
    SQLite::Database writer = openLog(path_, walBufferVfs(), "NORMAL");
    commitRows(writer, 0, 40);
    {
        SQLite::Database other = openLog(path_, nullptr, "NORMAL");
        other.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        commitRows(other, 40, 2);
    }
    commitRows(writer, 42, 10);
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    expectRows(reader, 52);
    SQLite::Database recovered = crashCopy(path_, dir_.path() + "/copy.db");
    expectRows(recovered, 52);
}

// Fails the next write of SQLite's default VFS, once, as a failing disk
// would: through the VFS's own hook for its system calls.
class FailTheNextWrite {
public:
    FailTheNextWrite() : vfs_(sqlite3_vfs_find(nullptr)) {
        armed_ = true;
        vfs_->xSetSystemCall(vfs_, "pwrite64", reinterpret_cast<sqlite3_syscall_ptr>(&pwriteFailingOnce));
    }
    ~FailTheNextWrite() { vfs_->xSetSystemCall(vfs_, "pwrite64", nullptr); }  // back to the default
    FailTheNextWrite(const FailTheNextWrite&) = delete;
    FailTheNextWrite& operator=(const FailTheNextWrite&) = delete;

private:
    static ssize_t pwriteFailingOnce(int fd, const void* data, size_t size, off64_t offset) {
        if (armed_.exchange(false)) {
            errno = EIO;
            return -1;
        }
        return ::pwrite64(fd, data, size, offset);
    }

    static inline std::atomic<bool> armed_{false};
    sqlite3_vfs* vfs_;
};

// The commit's one write fails; the rollback that follows reads pages back
// from the log, which must not then write the failed commit after all.
TEST_F(WalBufferVfsTest, ACommitWhoseWriteFailedIsNotInTheLogAfterwards) {
    SQLite::Database writer = openLog(path_, walBufferVfs(), "NORMAL");
    commitRows(writer, 0, 10);
    {
        FailTheNextWrite failing;
        EXPECT_THROW(commitRows(writer, 10, 10), SQLite::Exception);
    }
    {
        SQLite::Database recovered = crashCopy(path_, dir_.path() + "/copy.db");
        expectRows(recovered, 10);
    }
    commitRows(writer, 10, 5);
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    expectRows(reader, 15);
    SQLite::Database recovered = crashCopy(path_, dir_.path() + "/copy-after.db");
    expectRows(recovered, 15);
}

}  // namespace
}  // namespace slipway
