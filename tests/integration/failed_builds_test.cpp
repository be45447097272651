#include <Poco/JSON/Array.h>

#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using FailedBuilds = PipelineTest;

std::string errorOf(const Poco::JSON::Object::Ptr& object) {
    return object->isNull("error") ? std::string() : object->getValue<std::string>("error");
}

TEST_P(FailedBuilds, AMissingImagesJsonFailsTheJobSayingSo) {
    const std::string sha = git_->commit(service(unique("orphan")));
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "missing-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "failed");
    EXPECT_NE(errorOf(job).find("images.json is missing from commit " + sha.substr(0, 12)), std::string::npos)
        << errorOf(job);
    EXPECT_EQ(job->getArray("builds")->size(), 0u);
}

TEST_P(FailedBuilds, AnImagesJsonThatIsNotJsonFailsTheJobSayingWhy) {
    const std::string sha = git_->commit(files({service(unique("x")), {{"images.json", "[{\"service_name\": "}}}));
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "invalid-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "failed");
    EXPECT_NE(errorOf(job).find("images.json is not valid JSON"), std::string::npos) << errorOf(job);
}

TEST_P(FailedBuilds, AFailingServiceDoesNotStopTheOthers) {
    const std::string broken = unique("broken");
    const std::string good = unique("good");
    const std::string missing = unique("missing");
    const std::string sha = git_->commit(files(
        {service(broken, "false"), service(good),
         {{"images.json", R"([{"service_name": ")" + broken + R"(", "type": "Docker", "version": "1"},
                              {"service_name": ")" + missing + R"(", "type": "Docker", "version": "1"},
                              {"service_name": ")" + good + R"(", "type": "Docker", "version": "--help"},
                              {"service_name": ")" + good + R"(", "type": "Docker", "version": "2"}])"}}}));
    const std::set<std::string> danglingBefore = DockerEngine::danglingImages();
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "mixed-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "failed");
    EXPECT_NE(errorOf(job).find("3 of 4 services failed"), std::string::npos) << errorOf(job);

    Poco::JSON::Array::Ptr builds = job->getArray("builds");
    ASSERT_EQ(builds->size(), 4u);
    std::vector<std::string> states, errors;
    for (std::size_t i = 0; i < builds->size(); ++i) {
        states.push_back(builds->getObject(static_cast<unsigned>(i))->getValue<std::string>("state"));
        errors.push_back(errorOf(builds->getObject(static_cast<unsigned>(i))));
    }
    // Builds are recorded in the order images.json lists them.
    EXPECT_EQ(states, (std::vector<std::string>{"failed", "failed", "failed", "succeeded"}));
    EXPECT_NE(errors[0].find("build of " + IntegrationEnvironment::registry().host() + "/" + broken), std::string::npos)
        << errors[0];
    EXPECT_NE(errors[1].find("folder " + missing + "/ is missing"), std::string::npos) << errors[1];
    EXPECT_NE(errors[2].find("is not a Docker tag"), std::string::npos) << errors[2];
    // A build refused before it ran has no log; asking for one says why.
    const std::int64_t refused = builds->getObject(2)->getValue<std::int64_t>("id");
    for (const char* query : {"", "?follow=1"}) {
        const HttpAnswer log = daemon.get("/api/builds/" + std::to_string(refused) + "/log" + query);
        EXPECT_EQ(log.status, 404) << log.body;
        EXPECT_NE(log.body.find("never ran"), std::string::npos) << log.body;
        EXPECT_NE(log.body.find("is not a Docker tag"), std::string::npos) << log.body;
    }
    const std::int64_t ran = builds->getObject(0)->getValue<std::int64_t>("id");
    EXPECT_EQ(daemon.get("/api/builds/" + std::to_string(ran) + "/log").status, 200);
    EXPECT_EQ(IntegrationEnvironment::registry().tags(good), std::vector<std::string>{"2"});
    EXPECT_TRUE(IntegrationEnvironment::registry().tags(broken).empty());
    EXPECT_FALSE(DockerEngine::imageExists(IntegrationEnvironment::registry().host() + "/" + broken + ":1"));
    EXPECT_EQ(DockerEngine::danglingImages(), danglingBefore) << "the failed build left images behind";
}

INSTANTIATE_TEST_SUITE_P(Backends, FailedBuilds, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
