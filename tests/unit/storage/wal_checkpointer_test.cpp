#include "storage/wal_checkpointer.h"

#include <chrono>
#include <thread>

#include <Poco/File.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include "storage/database.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

using testing::eventually;

constexpr int kPageSize = 4096;
constexpr int kWalFrameBytes = kPageSize + 24;
constexpr int kWalHeaderBytes = 32;

class WalCheckpointerTest : public ::testing::Test {
protected:
    WalCheckpointerTest() {
        // The sizes below count in pages of SQLite's default size.
        EXPECT_EQ(db_.execAndGet("PRAGMA page_size").getInt(), kPageSize);
        db_.exec("CREATE TABLE blobs (data BLOB)");
        // Speed only: the commits, and the checkpoints run in them, skip their syncs.
        db_.exec("PRAGMA synchronous = OFF");
        // An empty log: the tests count the pages their commits add to it.
        db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }

    // Commits `count` transactions of one row that fills a page of its own
    // (and rewrites the table's inner pages: a commit adds a few pages to the log).
    void commit(int count) {
        SQLite::Statement insert(db_, "INSERT INTO blobs VALUES (zeroblob(?))");
        for (int i = 0; i < count; ++i) {
            insert.bind(1, kPageSize - 200);
            insert.exec();
            insert.reset();
        }
    }

    std::int64_t walBytes() const { return static_cast<std::int64_t>(Poco::File(path_ + "-wal").getSize()); }
    // Pages in the log, while it has not been started over.
    std::int64_t logPages() const { return (walBytes() - kWalHeaderBytes) / kWalFrameBytes; }
    std::int64_t dbBytes() const { return static_cast<std::int64_t>(Poco::File(path_).getSize()); }

    testing::TempDir dir_;
    const std::string path_ = dir_.path() + "/slipway.db";
    SQLite::Database db_ = openDatabase(path_);
};

TEST_F(WalCheckpointerTest, CheckpointsOnItsOwnThreadOnceTheLogHasGrown) {
    WalCheckpointer checkpointer(db_, path_, {/*backgroundPages=*/40, /*inlinePages=*/100000});
    const std::int64_t before = dbBytes();
    while (logPages() < 35) commit(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(checkpointer.backgroundCheckpoints(), 0u) << "the log has not grown by 40 pages yet";

    commit(3);
    ASSERT_GE(logPages(), 40);
    EXPECT_TRUE(eventually([&] { return checkpointer.backgroundCheckpoints() >= 1; }));
    EXPECT_EQ(checkpointer.inlineCheckpoints(), 0u);
    EXPECT_GE(dbBytes(), before + 10 * kPageSize) << "the new rows' pages were copied into the database file";
}

TEST_F(WalCheckpointerTest, ACommitPastTheLimitCheckpointsOnlyAfterTheThreadHas) {
    constexpr int kInlinePages = 64;
    // The thread runs only when woken for the limit.
    WalCheckpointer checkpointer(db_, path_, {/*backgroundPages=*/100000, kInlinePages});
    while (logPages() < kInlinePages - 8) commit(1);
    // A reader's snapshot keeps every checkpoint from copying past it, so the
    // thread's cannot empty the log and let the next commit start it over.
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    reader.exec("BEGIN");
    reader.execAndGet("SELECT count(*) FROM blobs");
    while (logPages() < kInlinePages) commit(1);
    EXPECT_EQ(checkpointer.inlineCheckpoints(), 0u) << "the commit that reached the limit left the copy to the thread";
    ASSERT_TRUE(eventually([&] { return checkpointer.backgroundCheckpoints() == 1; }));
    EXPECT_EQ(checkpointer.inlineCheckpoints(), 0u);
    commit(1);
    EXPECT_EQ(checkpointer.inlineCheckpoints(), 1u) << "the first commit after the thread's checkpoint";
    reader.exec("COMMIT");
}

TEST_F(WalCheckpointerTest, ALogTheThreadCopiedWholeIsStartedOverWithoutACommitCheckpointing) {
    constexpr int kInlinePages = 64;
    WalCheckpointer checkpointer(db_, path_, {/*backgroundPages=*/100000, kInlinePages});
    while (logPages() < kInlinePages) commit(1);
    ASSERT_TRUE(eventually([&] { return checkpointer.backgroundCheckpoints() == 1; }));
    commit(1);
    EXPECT_EQ(checkpointer.inlineCheckpoints(), 0u);
    // (busy, pages in the log, pages copied): only the last commit's pages are left.
    SQLite::Statement status(db_, "PRAGMA wal_checkpoint(PASSIVE)");
    ASSERT_TRUE(status.executeStep());
    EXPECT_LT(status.getColumn(1).getInt(), 8);
}

TEST_F(WalCheckpointerTest, KeepsTheLogBoundedUnderASteadyStreamOfCommits) {
    constexpr int kInlinePages = 64;
    {
        WalCheckpointer checkpointer(db_, path_, {/*backgroundPages=*/16, kInlinePages});
        commit(3000);  // ~9,000 pages
        EXPECT_GE(checkpointer.inlineCheckpoints(), 1u);
    }
    // Once past the limit, a commit checkpointed all of the log after the
    // thread's checkpoint, or past twice the limit whatever the thread did;
    // the next one started the log over.
    EXPECT_LE(logPages(), 2 * kInlinePages + 8);
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    EXPECT_EQ(reader.execAndGet("SELECT count(*) FROM blobs").getInt(), 3000);
}

TEST_F(WalCheckpointerTest, WhileAReaderPinsTheLogCommitsCheckpointOnlyAsItGrows) {
    constexpr int kBackgroundPages = 16;
    constexpr int kInlinePages = 64;
    WalCheckpointer checkpointer(db_, path_, {kBackgroundPages, kInlinePages});
    commit(5);
    SQLite::Database reader(path_, SQLite::OPEN_READONLY);
    reader.exec("BEGIN");
    reader.execAndGet("SELECT count(*) FROM blobs");
    commit(300);  // ~900 pages that no checkpoint can copy
    // Checkpointing at every commit past twice the limit made 132 of them.
    EXPECT_GE(checkpointer.inlineCheckpoints(), 1u);
    EXPECT_LE(checkpointer.inlineCheckpoints(), static_cast<std::size_t>(900 / kBackgroundPages + 2));
    reader.exec("COMMIT");

    // Once the reader is gone the log is copied whole and started over.
    commit(100);
    SQLite::Statement status(db_, "PRAGMA wal_checkpoint(PASSIVE)");
    ASSERT_TRUE(status.executeStep());
    EXPECT_LT(status.getColumn(1).getInt(), 2 * kInlinePages + 8) << "pages in the log";
}

TEST_F(WalCheckpointerTest, GivesCheckpointsBackToSqliteWhenDestroyed) {
    { WalCheckpointer checkpointer(db_, path_, {/*backgroundPages=*/100000, /*inlinePages=*/100000}); }
    // SQLite's own checkpoint starts the log over after 1,000 pages; without one it would hold ~3,600.
    commit(1200);
    EXPECT_LE(logPages(), 1000 + 8);
}

}  // namespace
}  // namespace slipway
