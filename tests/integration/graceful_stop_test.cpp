#include <signal.h>

#include <thread>

#include <Poco/JSON/Array.h>

#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using GracefulStop = PipelineTest;

// Waits until job `id` has a build running.
void waitUntilBuilding(SlipwayProcess& daemon, std::int64_t id) {
    for (int i = 0; i < 300; ++i) {
        Poco::JSON::Array::Ptr builds = daemon.get("/api/jobs/" + std::to_string(id)).json()->getArray("builds");
        for (std::size_t b = 0; b < builds->size(); ++b) {
            if (builds->getObject(static_cast<unsigned>(b))->getValue<std::string>("state") == "running") return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job " << id << " never started building";
}

TEST_P(GracefulStop, SigtermLetsARunningBuildFinish) {
    const std::string slow = unique("stop-finish");
    const std::string sha = git_->commit(files(
        {service(slow, "sleep 3"), {{"images.json", imagesJson({{slow, "1"}})}}}));
    SlipwayProcess& daemon = startDaemon();
    const std::int64_t job = deliverMerge(sha, "stop-finish-" + GetParam());
    waitUntilBuilding(daemon, job);
    daemon.restart();  // SIGTERM, wait for the exit, start again
    const Poco::JSON::Object::Ptr ended = daemon.waitForJob(job);
    EXPECT_EQ(ended->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(ended->getValue<int>("attempt"), 1) << "the build finished before slipwayd exited";
    EXPECT_EQ(IntegrationEnvironment::registry().tags(slow), std::vector<std::string>{"1"});
}

// An impatient operator presses Ctrl-C, then sends SIGTERM as well: the stop
// that began goes on, and the build still finishes.
TEST_P(GracefulStop, ASecondSignalDuringTheStopDoesNotCutItShort) {
    const std::string slow = unique("stop-twice");
    const std::string sha = git_->commit(files(
        {service(slow, "sleep 3"), {{"images.json", imagesJson({{slow, "1"}})}}}));
    SlipwayProcess& daemon = startDaemon();
    const std::int64_t job = deliverMerge(sha, "stop-twice-" + GetParam());
    waitUntilBuilding(daemon, job);
    daemon.signal(SIGINT);
    for (int i = 0; i < 100 && daemon.output().find("stopping: no new requests") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    daemon.signal(SIGTERM);
    daemon.signal(SIGINT);
    EXPECT_EQ(daemon.waitForExitAndStart(), 0) << daemon.output();
    EXPECT_NE(daemon.output().find("already stopping"), std::string::npos) << daemon.output();
    const Poco::JSON::Object::Ptr ended = daemon.waitForJob(job);
    EXPECT_EQ(ended->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(ended->getValue<int>("attempt"), 1) << "the second signal cut the build short";
}

// A stop asked for while slipwayd still starts (it serves, then sweeps the
// engine for leftover tags) is a clean stop, not a kill.
TEST_P(GracefulStop, ASigtermRightAfterTheStartIsACleanStop) {
    SlipwayProcess& daemon = startDaemon();
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.waitForExitAndStart(), 0) << daemon.output();
    EXPECT_NE(daemon.output().find("Information slipway: stopped"), std::string::npos) << daemon.output();
}

TEST_P(GracefulStop, PastStopTimeoutTheBuildIsInterruptedAndResumedAtTheNextStart) {
    const std::string slow = unique("stop-resume");
    const std::string sha = git_->commit(files(
        {service(slow, "sleep 6"), {{"images.json", imagesJson({{slow, "1"}})}}}));
    SlipwayProcess& daemon = startDaemon("[builder]\nstop_timeout = 1\n");
    const std::int64_t job = deliverMerge(sha, "stop-resume-" + GetParam());
    waitUntilBuilding(daemon, job);
    const auto start = std::chrono::steady_clock::now();
    daemon.restart();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "the stop waited for the build";
    EXPECT_NE(daemon.output().find("still running after builder.stop_timeout"), std::string::npos) << daemon.output();

    const Poco::JSON::Object::Ptr ended = daemon.waitForJob(job);
    EXPECT_EQ(ended->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(ended->getValue<int>("attempt"), 2);
    Poco::JSON::Array::Ptr builds = ended->getArray("builds");
    ASSERT_EQ(builds->size(), 2u);
    EXPECT_EQ(builds->getObject(0)->getValue<std::string>("state"), "failed");
    EXPECT_NE(builds->getObject(0)->getValue<std::string>("error").find("interrupted"), std::string::npos);
    EXPECT_EQ(builds->getObject(1)->getValue<std::string>("state"), "succeeded");
}

INSTANTIATE_TEST_SUITE_P(Backends, GracefulStop, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
