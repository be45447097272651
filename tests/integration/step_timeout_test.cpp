#include <Poco/JSON/Array.h>

#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using StepTimeout = PipelineTest;

TEST_P(StepTimeout, ABuildPastBuildTimeoutIsStoppedAndSaysWhichStepAndHowLong) {
    const std::string slow = unique("timeout-slow");
    const std::string quick = unique("timeout-quick");
    const std::string sha = git_->commit(
        files({service(slow, "sleep 60"), service(quick), {{"images.json", imagesJson({{slow, "1"}, {quick, "1"}})}}}));
    SlipwayProcess& daemon = startDaemon("[builder]\nbuild_timeout = 2\n");

    const auto start = std::chrono::steady_clock::now();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "timeout-" + GetParam()));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30)) << "the slow build was not stopped";
    Poco::JSON::Array::Ptr builds = job->getArray("builds");
    ASSERT_EQ(builds->size(), 2u);
    EXPECT_EQ(builds->getObject(0)->getValue<std::string>("state"), "failed");
    const std::string error = builds->getObject(0)->getValue<std::string>("error");
    EXPECT_NE(error.find("build of " + IntegrationEnvironment::registry().host() + "/" + slow), std::string::npos) << error;
    EXPECT_NE(error.find("timed out after 2 s"), std::string::npos) << error;
    EXPECT_EQ(builds->getObject(1)->getValue<std::string>("state"), "succeeded");  // the next service still builds
}

INSTANTIATE_TEST_SUITE_P(Backends, StepTimeout, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
