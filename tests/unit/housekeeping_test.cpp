#include "daemon/housekeeping.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <Poco/File.h>

#include "daemon/source/git_handles.h"
#include "storage/sqlite_connection.h"
#include "tests/integration/git_fixture.h"
#include "tests/support/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// The loose object files under a mirror's objects/.
std::size_t looseFiles(const std::string& mirror) {
    std::size_t count = 0;
    for (const auto& dir : std::filesystem::directory_iterator(mirror + "/objects")) {
        if (dir.path().filename().string().size() == 2) {
            count += static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir.path()), {}));
        }
    }
    return count;
}

class HousekeepingTest : public ::testing::Test {
protected:
    HousekeepingTest() {
        for (const char* dir : {"logs", "repos", "work"}) Poco::File(dir_.path() + "/" + dir).createDirectories();
        repo_.alias = "exam";
        repo_.url = git_.url();
    }

    // A finished build of `service` for a job of its own, with a log file.
    std::int64_t finishedBuild(const std::string& service, const std::string& delivery) {
        const std::string sha = git_.commit({{"images.json", "[]"}, {service, delivery}});
        const auto job = testing::runningTestJob(store_, delivery, sha);
        const auto id = store_.addBuild(testing::testBuild(job, service, sha));
        store_.startBuild(id);
        store_.finishBuild(id, RunState::Succeeded, "sha256:x", "");
        store_.finishJob(*store_.job(job), RunState::Succeeded, "");
        std::ofstream(logPath(id)) << "the log of " << id << "\n";
        return id;
    }

    std::string logPath(std::int64_t id) const { return dir_.path() + "/logs/build-" + std::to_string(id) + ".log"; }

    Housekeeping housekeeping(int keepDays, std::size_t maxLoose) {
        return Housekeeping({dir_.path(), dir_.path() + "/logs", keepDays, 0, {repo_}, maxLoose}, store_, checkout_,
                            clock_, [this](const DiskUsage& usage) { measured_ = usage; });
    }

    GitLibrary library_;
    testing::TempDir dir_;
    testing::GitFixture git_{dir_.path() + "/origin"};
    RepoSettings repo_;
    testing::TestClock clock_;
    Store store_{dir_.path() + "/slipway.db", clock_};
    Checkout checkout_{dir_.path() + "/repos", dir_.path() + "/work", std::chrono::seconds(30)};
    DiskUsage measured_;
};

TEST_F(HousekeepingTest, RemovesBuildsPastKeepDaysWithTheirLogsAndMeasuresTheStateFolder) {
    const auto old = finishedBuild("api", "d1");
    clock_.epoch += 100 * 86400;
    const auto recent = finishedBuild("api", "d2");
    const HousekeepingPass pass = housekeeping(90, 6700).runOnce();
    EXPECT_EQ(pass.pruned.builds, std::vector<std::int64_t>{old});
    EXPECT_FALSE(Poco::File(logPath(old)).exists());
    EXPECT_TRUE(Poco::File(logPath(recent)).exists());
    EXPECT_TRUE(store_.build(recent));
    ASSERT_EQ(measured_.size(), 4u);
    EXPECT_GT(measured_.at("database"), 0u);
    EXPECT_GT(measured_.at("logs"), 0u);
}

// Another node pruned the history (its own log files with it): this
// node's files of those builds go at its next pass.
TEST_F(HousekeepingTest, RemovesTheLogFilesOfBuildsTheStoreNoLongerHas) {
    const auto pruned = finishedBuild("api", "d0");
    const auto kept = finishedBuild("api", "d1");
    const auto newest = finishedBuild("web", "d2");
    SqliteConnection(dir_.path() + "/slipway.db")
        .run("DELETE FROM builds WHERE id = " + std::to_string(pruned), {});  // as another node prunes
    const std::string gone = logPath(pruned);
    // Past the newest build: a log of another database's (or one not yet recorded): kept.
    const std::string unknown = dir_.path() + "/logs/build-" + std::to_string(newest + 1000) + ".log";
    std::ofstream(unknown) << "not ours to judge\n";
    const std::string other = dir_.path() + "/logs/notes.txt";
    std::ofstream(other) << "not a build log\n";
    const HousekeepingPass pass = housekeeping(0, 6700).runOnce();
    EXPECT_EQ(pass.orphanLogs, 1u);
    EXPECT_FALSE(Poco::File(gone).exists());
    EXPECT_TRUE(Poco::File(logPath(kept)).exists());
    EXPECT_TRUE(Poco::File(logPath(newest)).exists());
    EXPECT_TRUE(Poco::File(unknown).exists());
    EXPECT_TRUE(Poco::File(other).exists());
}

TEST_F(HousekeepingTest, KeepDaysZeroKeepsEverything) {
    const auto old = finishedBuild("api", "d1");
    clock_.epoch += 1000 * 86400;
    finishedBuild("api", "d2");
    EXPECT_TRUE(housekeeping(0, 6700).runOnce().pruned.builds.empty());
    EXPECT_TRUE(store_.build(old));
}

TEST_F(HousekeepingTest, PacksAMirrorsLooseObjectsPastTheLimitAndLosesNone) {
    std::string manifest;
    const std::string first = git_.commit({{"images.json", "[]"}, {"a", "one"}});
    checkout_.prepare(repo_, first, "images.json", 1024, manifest);  // fetched: a pack
    std::string second;
    for (int i = 0; i < 5; ++i) second = git_.commit({{"file" + std::to_string(i), std::to_string(i)}});
    checkout_.prepare(repo_, second, "images.json", 1024, manifest);  // copied from the local repository: loose
    const std::string mirror = dir_.path() + "/repos/exam.git";
    const std::size_t loose = looseFiles(mirror);
    ASSERT_GT(loose, 5u);

    EXPECT_TRUE(housekeeping(0, loose).runOnce().packed.empty()) << "packed at the limit, not past it";
    const HousekeepingPass pass = housekeeping(0, 0).runOnce();
    ASSERT_EQ(pass.packed.size(), 1u);
    EXPECT_EQ(pass.packed[0].second, loose);
    EXPECT_EQ(looseFiles(mirror), 0u);
    // Every object is still there: a new checkout of each commit needs no fetch.
    Checkout fresh(dir_.path() + "/repos", dir_.path() + "/work2", std::chrono::seconds(30));
    RepoSettings offline = repo_;
    offline.url = "file:///nonexistent";
    EXPECT_NO_THROW(fresh.prepare(offline, second, "images.json", 1024, manifest));
    EXPECT_NO_THROW(fresh.prepare(offline, first, "images.json", 1024, manifest));
}

}  // namespace
}  // namespace slipway
