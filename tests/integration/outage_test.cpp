#include <thread>

#include <Poco/JSON/Array.h>

#include "tests/integration/engine_proxy.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using Outage = PipelineTest;

// The log of the only build of job `job`.
std::string logOf(SlipwayProcess& daemon, const Poco::JSON::Object::Ptr& job) {
    Poco::JSON::Array::Ptr builds = job->getArray("builds");
    if (builds->size() == 0) return "";
    return daemon.get("/api/builds/" + std::to_string(builds->getObject(builds->size() - 1)->getValue<std::int64_t>("id")) +
                      "/log").body;
}

TEST_P(Outage, ARegistryDownDuringThePushIsRetriedUntilItIsBack) {
    TlsRegistry registry(dir_.path() + "/flaky-registry");
    const std::string svc = unique("outage-registry");
    const std::string sha = git_->commit(files({service(svc, "sleep 2"), {{"images.json", imagesJson({{svc, "1"}})}}}));
    DaemonOptions options = defaultOptions();
    options.registryHost = registry.host();
    options.extraIni = "[builder]\nretries = 8\nretry_delay_ms = 500\n";
    startDaemon(options);

    const std::int64_t job = deliverMerge(sha, "outage-registry-" + GetParam());
    registry.stop();  // down before the build reaches its push
    std::this_thread::sleep_for(std::chrono::seconds(5));
    registry.start();
    const Poco::JSON::Object::Ptr ended = daemon_->waitForJob(job);
    EXPECT_EQ(ended->getValue<std::string>("state"), "succeeded") << logOf(*daemon_, ended);
    EXPECT_NE(logOf(*daemon_, ended).find("trying again in"), std::string::npos) << logOf(*daemon_, ended);
    EXPECT_EQ(registry.tags(svc), std::vector<std::string>{"1"});
}

TEST_P(Outage, BuildsWaitForAnEngineThatIsBackSoonAndFailClearlyWhenItIsNot) {
    EngineProxy engine(dir_.path() + "/engine.sock");
    const std::string svc = unique("outage-engine");
    const std::string first = git_->commit(files({service(svc), {{"images.json", imagesJson({{svc, "1"}})}}}));
    SlipwayProcess& daemon =
        startDaemon("[builder]\ndocker_host = " + engine.dockerHost() + "\nretries = 3\nretry_delay_ms = 1000\n");

    // Away for a moment: the build waits and goes on.
    engine.stop();
    const std::int64_t waited = deliverMerge(first, "outage-engine-1-" + GetParam());
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    engine.start();
    Poco::JSON::Object::Ptr ended = daemon.waitForJob(waited);
    EXPECT_EQ(ended->getValue<std::string>("state"), "succeeded") << logOf(daemon, ended);
    EXPECT_NE(logOf(daemon, ended).find("trying again in"), std::string::npos) << logOf(daemon, ended);

    // Away for longer than the retries: the build fails saying the engine could not be reached...
    const std::string second =
        git_->commit({{svc + "/payload.txt", "second\n"}, {"images.json", imagesJson({{svc, "2"}})}});
    engine.stop();
    const std::int64_t failed = deliverMerge(second, "outage-engine-2-" + GetParam());
    ended = daemon.waitForJob(failed);
    engine.start();
    EXPECT_EQ(ended->getValue<std::string>("state"), "failed");
    const std::string error = ended->getArray("builds")->getObject(0)->getValue<std::string>("error");
    EXPECT_TRUE(error.find("Cannot connect to the Docker daemon") != std::string::npos ||
                error.find("cannot reach the Docker engine") != std::string::npos)
        << error;
    // ... and a retry once it is back builds it.
    const std::int64_t buildId = ended->getArray("builds")->getObject(0)->getValue<std::int64_t>("id");
    const HttpAnswer retried = daemon.post("/api/builds/" + std::to_string(buildId) + "/retry", "");
    ASSERT_EQ(retried.status, 202) << retried.body;
    EXPECT_EQ(daemon.waitForJob(retried.json()->getValue<std::int64_t>("job"))->getValue<std::string>("state"),
              "succeeded");
}

INSTANTIATE_TEST_SUITE_P(Backends, Outage, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
