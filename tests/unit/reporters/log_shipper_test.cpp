#include "daemon/reporters/log_shipper.h"

#include <fstream>

#include <gtest/gtest.h>

#include "storage/sqlite_connection.h"
#include "tests/support/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

class LogShipperTest : public ::testing::Test {
protected:
    LogShipperTest() {
        build_ = testing::testBuild(testing::runningTestJob(store_, "d1"), "api");
        build_.id = store_.addBuild(build_);
    }

    std::string path(std::int64_t id) const { return dir_.path() + "/build-" + std::to_string(id) + ".log"; }
    void append(const std::string& text) { std::ofstream(path(build_.id), std::ios::app | std::ios::binary) << text; }
    // Everything shipped so far, and whether its last chunk is there.
    std::string shipped(bool* last = nullptr) {
        std::string all;
        for (const LogChunk& chunk : store_.logChunks(build_.id, 0)) {
            all += chunk.data;
            if (last) *last = chunk.last;
        }
        return all;
    }

    testing::TempDir dir_;
    testing::TestClock clock_;
    Store store_{dir_.path() + "/slipway.db", clock_};
    Build build_;
    LogShipper shipper_{store_, [this](std::int64_t id) { return path(id); }, std::chrono::milliseconds(10000)};
};

TEST_F(LogShipperTest, ShipsWhatTheLogGainedEachRoundAndItsEndOnceTheBuildEnded) {
    shipper_.buildStarted(build_);
    shipper_.shipOnce();
    EXPECT_TRUE(store_.logChunks(build_.id, 0).empty()) << "nothing written, nothing shipped";
    append("Step 1/3\n");
    shipper_.shipOnce();
    append("Step 2/3\n");
    shipper_.shipOnce();
    shipper_.shipOnce();
    bool last = true;
    EXPECT_EQ(shipped(&last), "Step 1/3\nStep 2/3\n");
    EXPECT_FALSE(last);
    EXPECT_EQ(store_.logChunks(build_.id, 0).size(), 2u);

    append("pushed\n");
    shipper_.buildFinished(build_);
    shipper_.shipOnce();
    EXPECT_EQ(shipped(&last), "Step 1/3\nStep 2/3\npushed\n");
    EXPECT_TRUE(last);
    EXPECT_EQ(shipper_.tracked(), 0u);
}

TEST_F(LogShipperTest, ALongLogGoesInChunksAndAJobThatEndedEndsItsBuildsLogs) {
    shipper_.buildStarted(build_);
    const std::string line(1000, 'x');
    for (int i = 0; i < 700; ++i) append(line + "\n");  // ~700 KB: three chunks
    Job job;
    job.id = build_.jobId;
    shipper_.jobFinished(job);  // a stop, or a lost lease: the build writes no more
    shipper_.shipOnce();
    bool last = false;
    EXPECT_EQ(shipped(&last).size(), 700u * 1001u);
    EXPECT_TRUE(last);
    EXPECT_EQ(store_.logChunks(build_.id, 0).size(), 3u);
}

// A chunk the store failed to take is sent again as it was, before what
// the log gained since: had the store kept it after all (its answer lost),
// the copy it has and the chunks after it agree.
TEST_F(LogShipperTest, AChunkTheStoreFailedToTakeIsSentAgainAsItWas) {
    shipper_.buildStarted(build_);
    append("Step 1/2\n");
    SqliteConnection behind(dir_.path() + "/slipway.db");
    behind.run("ALTER TABLE build_log_chunks RENAME TO away", {});
    shipper_.shipOnce();  // fails: the table is away
    append("Step 2/2\n");
    behind.run("ALTER TABLE away RENAME TO build_log_chunks", {});
    shipper_.buildFinished(build_);
    shipper_.shipOnce();
    const std::vector<LogChunk> chunks = store_.logChunks(build_.id, 0);
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].data, "Step 1/2\n");
    EXPECT_EQ(chunks[1].data, "Step 2/2\n");
    EXPECT_TRUE(chunks[1].last);
    EXPECT_EQ(shipper_.tracked(), 0u);
}

TEST_F(LogShipperTest, ABuildThatNeverStartedHasNoLogToShip) {
    shipper_.buildFinished(build_);
    shipper_.shipOnce();
    EXPECT_TRUE(store_.logChunks(build_.id, 0).empty());
    EXPECT_EQ(shipper_.tracked(), 0u);
}

}  // namespace
}  // namespace slipway
