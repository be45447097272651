#include "daemon/pipeline/lease_keeper.h"

#include <gtest/gtest.h>

#include "tests/support/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

class LeaseKeeperTest : public ::testing::Test {
protected:
    testing::TempDir dir_;
    testing::TestClock clock_;
    Store here_{dir_.path() + "/slipway.db", clock_, {"here", std::chrono::seconds(60)}};
    Store there_{dir_.path() + "/slipway.db", clock_, {"there", std::chrono::seconds(60)}};
    std::vector<int> requeued_;
    std::vector<std::int64_t> running_;  // what the scheduler says it runs
};

TEST_F(LeaseKeeperTest, ItsRoundsKeepItsNodesJobs) {
    const std::int64_t job = testing::runningTestJob(here_, "d1");
    running_ = {job};
    LeaseKeeper keeper(
        here_, 3, [this] { return running_; }, [this](int n) { requeued_.push_back(n); });
    for (int round = 0; round < 5; ++round) {
        clock_.epoch += 20;  // a third of the lease
        keeper.tick();
    }
    EXPECT_EQ(there_.requeueExpiredLeases(3), 0);
    EXPECT_EQ(here_.job(job)->state, RunState::Running);
    EXPECT_TRUE(requeued_.empty());
}

TEST_F(LeaseKeeperTest, TakesBackTheJobsOfANodeThatStoppedRenewing) {
    const std::int64_t job = testing::runningTestJob(there_, "d1");
    LeaseKeeper keeper(
        here_, 3, [this] { return running_; }, [this](int n) { requeued_.push_back(n); });
    clock_.epoch += 60;
    keeper.tick();
    EXPECT_TRUE(requeued_.empty()) << "a lease that ends now has not run out";
    clock_.epoch += 1;
    keeper.tick();
    EXPECT_EQ(requeued_, std::vector<int>{1});
    EXPECT_EQ(here_.job(job)->state, RunState::Queued);
    EXPECT_EQ(here_.job(job)->attempt, 2);
}

// A job this node claimed and no longer runs (its end could not be
// recorded) is not renewed: it lapses and comes back like any other.
TEST_F(LeaseKeeperTest, AJobItsWorkersNoLongerRunLapses) {
    const std::int64_t job = testing::runningTestJob(here_, "d1");
    LeaseKeeper keeper(
        here_, 3, [this] { return running_; }, [this](int n) { requeued_.push_back(n); });
    for (int round = 0; round < 4; ++round) {
        clock_.epoch += 20;
        keeper.tick();
    }
    EXPECT_EQ(requeued_, std::vector<int>{1});
    EXPECT_EQ(here_.job(job)->state, RunState::Queued);
}

}  // namespace
}  // namespace slipway
