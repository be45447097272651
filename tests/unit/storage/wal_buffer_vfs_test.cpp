#include "storage/wal_buffer_vfs.h"

#include <fstream>
#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// Most of a 4 KiB page: each row is a page of its own, so a commit of N rows
// adds some N frames to the log.
constexpr int kRowBytes = 3000;

std::string rowData(int n) { return std::string(kRowBytes, static_cast<char>('a' + n % 26)); }

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

// `vfs` null: SQLite's default.
SQLite::Database openLog(const std::string& path, const char* vfs, const char* synchronous) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 0, vfs == nullptr ? "" : vfs);
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

// Every row of 0..count-1 is there, whole, as `db` reads the database.
void expectRows(SQLite::Database& db, int count) {
    SQLite::Statement select(db, "SELECT n, data FROM rows ORDER BY n");
    int n = 0;
    while (select.executeStep()) {
        ASSERT_EQ(select.getColumn(0).getInt(), n);
        ASSERT_EQ(select.getColumn(1).getString(), rowData(n)) << "row " << n;
        ++n;
    }
    EXPECT_EQ(n, count);
    EXPECT_EQ(db.execAndGet("PRAGMA quick_check").getString(), "ok");
}

// Write calls made by one commit of `rows` rows to the database at `path`.
long writesOfACommit(const std::string& path, const char* vfs, int rows) {
    SQLite::Database db = openLog(path, vfs, "FULL");
    commitRows(db, 0, 1);  // the log and its index are made before counting
    const long before = writeCalls();
    commitRows(db, 1, rows);
    return writeCalls() - before;
}

TEST(WalBufferVfsTest, ACommitReachesTheLogInAFewWritesNotTwoPerPage) {
    testing::TempDir dir;
    // 100 frames, 400 KiB: more than one write can carry.
    const long unbuffered = writesOfACommit(dir.path() + "/plain.db", nullptr, 100);
    const long buffered = writesOfACommit(dir.path() + "/buffered.db", walBufferVfs(), 100);
    EXPECT_GE(unbuffered, 200) << "SQLite writes a frame's header and its page apart: the count must see them";
    EXPECT_LE(buffered, 5);
    SQLite::Database reader(dir.path() + "/buffered.db", SQLite::OPEN_READONLY);
    expectRows(reader, 101);
}

// Whatever the connection syncs, a commit's frames are in the file before
// another connection can be told of them: this reader (SQLite's default VFS,
// as the checkpointer's connection) reads them from the file.
class WalBufferVfsSyncTest : public ::testing::TestWithParam<const char*> {};

TEST_P(WalBufferVfsSyncTest, AnotherConnectionReadsEachCommitOnceItEnds) {
    testing::TempDir dir;
    const std::string path = dir.path() + "/slipway.db";
    SQLite::Database writer = openLog(path, walBufferVfs(), GetParam());
    SQLite::Database reader(path, SQLite::OPEN_READONLY);
    for (int commit = 1; commit <= 4; ++commit) {
        commitRows(writer, (commit - 1) * 10, 10);
        expectRows(reader, commit * 10);
    }
}

INSTANTIATE_TEST_SUITE_P(Synchronous, WalBufferVfsSyncTest, ::testing::Values("OFF", "NORMAL", "FULL"));

TEST(WalBufferVfsTest, ATransactionReadsBackThePagesItSpilledToTheLog) {
    testing::TempDir dir;
    const std::string path = dir.path() + "/slipway.db";
    {
        SQLite::Database db = openLog(path, walBufferVfs(), "FULL");
        // A cache of 10 pages: 200 new pages spill to the log before the commit.
        db.exec("PRAGMA cache_size = 10");
        SQLite::Transaction tx(db);
        insertRows(db, 0, 200);
        expectRows(db, 200);
        tx.commit();
    }
    SQLite::Database reopened(path, SQLite::OPEN_READONLY);
    expectRows(reopened, 200);
}

}  // namespace
}  // namespace slipway
