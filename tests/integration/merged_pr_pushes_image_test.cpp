#include <Poco/JSON/Array.h>

#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using MergedPrPushesImage = PipelineTest;

TEST_P(MergedPrPushesImage, BothServicesReachTheRegistryAndLeaveNoLocalTag) {
    const std::string api = unique("api");
    const std::string worker = unique("worker");
    const std::string sha = git_->commit(files(
        {service(api), service(worker),
         {{"images.json", R"([{"service_name": ")" + api + R"(", "type": "Docker", "version": "1.4.2"},
                              {"service_name": ")" + worker + R"(", "type": "Docker", "version": "0.9.0"}])"}}}));
    SlipwayProcess& daemon = startDaemon();

    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "merge-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "succeeded") << daemon.output();

    const TlsRegistry& registry = IntegrationEnvironment::registry();
    const std::string host = registry.host();
    EXPECT_EQ(registry.tags(api), std::vector<std::string>{"1.4.2"});
    EXPECT_EQ(registry.tags(worker), std::vector<std::string>{"0.9.0"});
    EXPECT_FALSE(DockerEngine::imageExists(host + "/" + api + ":1.4.2"));
    EXPECT_FALSE(DockerEngine::imageExists(host + "/" + worker + ":0.9.0"));

    const HttpAnswer list = daemon.get("/api/builds");
    ASSERT_EQ(list.status, 200);
    Poco::JSON::Array::Ptr builds = list.json()->getArray("builds");
    ASSERT_EQ(builds->size(), 2u) << list.body;
    std::map<std::string, Poco::JSON::Object::Ptr> byService;
    for (std::size_t i = 0; i < builds->size(); ++i) {
        Poco::JSON::Object::Ptr b = builds->getObject(static_cast<unsigned>(i));
        byService[b->getValue<std::string>("service")] = b;
    }
    for (const auto& [name, version] : std::map<std::string, std::string>{{api, "1.4.2"}, {worker, "0.9.0"}}) {
        ASSERT_TRUE(byService.count(name)) << list.body;
        Poco::JSON::Object::Ptr b = byService[name];
        EXPECT_EQ(b->getValue<std::string>("state"), "succeeded");
        EXPECT_EQ(b->getValue<std::string>("sha"), sha);
        EXPECT_EQ(b->getValue<std::string>("image"), host + "/" + name + ":" + version);
        EXPECT_EQ(b->getValue<std::string>("delivery"), "merge-" + GetParam());
        EXPECT_EQ(b->getValue<std::string>("digest"), registry.manifestDigest(name, version));
        EXPECT_TRUE(b->isNull("error"));
        EXPECT_FALSE(b->isNull("finished_at"));

        const HttpAnswer one = daemon.get("/api/builds/" + std::to_string(b->getValue<std::int64_t>("id")));
        EXPECT_EQ(one.status, 200);
        EXPECT_EQ(one.json()->getValue<std::string>("digest"), b->getValue<std::string>("digest"));
        const HttpAnswer log = daemon.get("/api/builds/" + std::to_string(b->getValue<std::int64_t>("id")) + "/log");
        EXPECT_EQ(log.status, 200);
        EXPECT_NE(log.body.find("payload of " + name), std::string::npos) << log.body;
    }
}

TEST_P(MergedPrPushesImage, TheLegacyPathBuildsToo) {
    const std::string legacy = unique("legacy");
    const std::string sha = git_->commit(files(
        {service(legacy), {{"images.json", R"([{"service_name": ")" + legacy + R"(", "type": "Docker", "version": "1"}])"}}}));
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "legacy-" + GetParam(), "/ciserver/updates"));
    EXPECT_EQ(job->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(IntegrationEnvironment::registry().tags(legacy), std::vector<std::string>{"1"});
}

INSTANTIATE_TEST_SUITE_P(Backends, MergedPrPushesImage, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
