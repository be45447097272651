#include <Poco/JSON/Array.h>

#include "tests/integration/command.h"
#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

// Build only what changed, never rewrite a published version: against the
// real registry, whose labels are the only record the decisions read.
class Releases : public PipelineTest {
protected:
    // The builds of a job by service.
    static std::map<std::string, Poco::JSON::Object::Ptr> byService(const Poco::JSON::Object::Ptr& job) {
        std::map<std::string, Poco::JSON::Object::Ptr> builds;
        Poco::JSON::Array::Ptr list = job->getArray("builds");
        for (std::size_t i = 0; i < list->size(); ++i) {
            Poco::JSON::Object::Ptr b = list->getObject(static_cast<unsigned>(i));
            builds[b->getValue<std::string>("service")] = b;
        }
        return builds;
    }

    static std::string errorOf(const Poco::JSON::Object::Ptr& build) {
        return build->isNull("error") ? std::string() : build->getValue<std::string>("error");
    }

    const TlsRegistry& registry() const { return IntegrationEnvironment::registry(); }
};

TEST_P(Releases, AMergeThatChangesOneOfThreeServicesBuildsItAndReusesTheOthers) {
    const std::string a = unique("rel-a"), b = unique("rel-b"), c = unique("rel-c");
    const std::string first = git_->commit(files(
        {service(a), service(b), service(c), {{"images.json", imagesJson({{a, "1"}, {b, "1"}, {c, "1"}})}}}));
    SlipwayProcess& daemon = startDaemon();
    ASSERT_EQ(daemon.waitForJob(deliverMerge(first, "rel-first-" + GetParam()))->getValue<std::string>("state"),
              "succeeded");
    const std::string digestA = registry().manifestDigest(a, "1");
    const std::string digestC = registry().manifestDigest(c, "1");

    const std::string second = git_->commit(
        {{b + "/payload.txt", "payload of " + b + ", changed\n"}, {"images.json", imagesJson({{a, "1"}, {b, "2"}, {c, "1"}})}});
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(second, "rel-second-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "succeeded") << daemon.output();
    auto builds = byService(job);
    EXPECT_FALSE(builds[b]->getValue<bool>("reused"));
    EXPECT_EQ(builds[b]->getValue<std::string>("digest"), registry().manifestDigest(b, "2"));
    for (const auto& [name, digest] : std::map<std::string, std::string>{{a, digestA}, {c, digestC}}) {
        EXPECT_EQ(builds[name]->getValue<std::string>("state"), "succeeded") << name;
        EXPECT_TRUE(builds[name]->getValue<bool>("reused")) << name;
        EXPECT_EQ(builds[name]->getValue<std::string>("digest"), digest) << name;
        EXPECT_EQ(registry().manifestDigest(name, "1"), digest) << name << " was pushed again";
        const HttpAnswer log = daemon.get("/api/builds/" + std::to_string(builds[name]->getValue<std::int64_t>("id")) +
                                          "/log");
        EXPECT_NE(log.body.find("not rebuilt: " + name + ":1 is already published from the same content"),
                  std::string::npos)
            << log.body;
    }
    EXPECT_EQ(registry().tags(b), (std::vector<std::string>{"1", "2"}));
}

TEST_P(Releases, AChangeWithoutAVersionBumpIsRefusedUntilRepublishSaysOverwrite) {
    const std::string api = unique("rel-api");
    const std::string first = git_->commit(files({service(api), {{"images.json", imagesJson({{api, "1.4.2"}})}}}));
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr built = daemon.waitForJob(deliverMerge(first, "bump-first-" + GetParam()));
    ASSERT_EQ(built->getValue<std::string>("state"), "succeeded");
    const std::int64_t firstBuild = byService(built)[api]->getValue<std::int64_t>("id");
    const std::string digest = registry().manifestDigest(api, "1.4.2");

    const std::string second = git_->commit({{api + "/payload.txt", "changed without a bump\n"}});
    const Poco::JSON::Object::Ptr refused = daemon.waitForJob(deliverMerge(second, "bump-second-" + GetParam()));
    EXPECT_EQ(refused->getValue<std::string>("state"), "failed");
    const std::string error = errorOf(byService(refused)[api]);
    EXPECT_EQ(error.rfind(api + ":1.4.2 is already published from tree ", 0), 0u) << error;
    EXPECT_NE(error.find("(commit " + first.substr(0, 12) + ", build " + std::to_string(firstBuild) + ")"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("; this commit changes " + api + "/ (tree "), std::string::npos) << error;
    EXPECT_NE(error.find("): bump its version in images.json"), std::string::npos) << error;
    EXPECT_EQ(registry().manifestDigest(api, "1.4.2"), digest) << "the published tag was rewritten";

    daemon_.reset();  // the same state folder, restarted with the setting
    DaemonOptions options = defaultOptions();
    options.extraIni = "[builder]\nrepublish = overwrite\n";
    SlipwayProcess& overwriting = startDaemon(options);
    const Poco::JSON::Object::Ptr moved = overwriting.waitForJob(deliverMerge(second, "bump-third-" + GetParam()));
    EXPECT_EQ(moved->getValue<std::string>("state"), "succeeded") << overwriting.output();
    EXPECT_NE(registry().manifestDigest(api, "1.4.2"), digest) << "overwrite did not move the tag";
}

TEST_P(Releases, ATagPushedByHandIsRefusedAndAFreshStateFolderDecidesTheSame) {
    // Pushed with the docker CLI from the base image: no slipway label.
    const std::string manual = unique("rel-manual");
    const std::string reference = registry().host() + "/" + manual + ":1";
    mustRun("docker", {"tag", IntegrationEnvironment::baseImage(), reference});
    mustRun("docker", {"push", reference});
    DockerEngine::removeImage(reference);
    const std::string manualDigest = registry().manifestDigest(manual, "1");

    const std::string kept = unique("rel-kept");
    const std::string sha = git_->commit(
        files({service(manual), service(kept), {{"images.json", imagesJson({{manual, "1"}, {kept, "1"}})}}}));
    {
        SlipwayProcess& daemon = startDaemon();
        const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "hand-" + GetParam()));
        EXPECT_EQ(job->getValue<std::string>("state"), "failed");
        auto builds = byService(job);
        EXPECT_NE(errorOf(builds[manual]).find(manual + ":1 is already published, but not by slipway"),
                  std::string::npos)
            << errorOf(builds[manual]);
        EXPECT_EQ(builds[kept]->getValue<std::string>("state"), "succeeded");
        EXPECT_FALSE(builds[kept]->getValue<bool>("reused"));
        EXPECT_EQ(registry().manifestDigest(manual, "1"), manualDigest);
    }

    // Another slipwayd with a state folder of its own, against the same registry.
    DaemonOptions options = defaultOptions();
    daemon_ = std::make_unique<SlipwayProcess>(dir_.path() + "/fresh", options);
    const Poco::JSON::Object::Ptr job = daemon_->waitForJob(deliverMerge(sha, "fresh-" + GetParam()));
    auto builds = byService(job);
    EXPECT_NE(errorOf(builds[manual]).find("but not by slipway"), std::string::npos) << errorOf(builds[manual]);
    EXPECT_TRUE(builds[kept]->getValue<bool>("reused")) << errorOf(builds[kept]);
    EXPECT_EQ(builds[kept]->getValue<std::string>("digest"), registry().manifestDigest(kept, "1"));
}

TEST_P(Releases, OtherTagsMoveWithTheVersionBuildArgsReachTheBuildAndLabelsSayWhereItCameFrom) {
    const std::string web = unique("rel-web");
    const auto entry = [&](const std::string& version) {
        return R"([{"service_name": ")" + web + R"(", "type": "Docker", "version": ")" + version +
               R"(", "tags": ["latest"], "dockerfile": "build/Dockerfile", "build_args": {"GREETING": "hello"}}])";
    };
    const std::string first = git_->commit(
        {{web + "/build/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() +
                                         "\nARG GREETING\nRUN echo \"greeting=$GREETING\"\nCOPY payload.txt /payload.txt\n"},
         {web + "/payload.txt", "one\n"},
         {"images.json", entry("1")}});
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(first, "tags-first-" + GetParam()));
    ASSERT_EQ(job->getValue<std::string>("state"), "succeeded") << daemon.output();
    const std::int64_t id = byService(job)[web]->getValue<std::int64_t>("id");
    EXPECT_NE(daemon.get("/api/builds/" + std::to_string(id) + "/log").body.find("greeting=hello"), std::string::npos);
    EXPECT_EQ(registry().tags(web), (std::vector<std::string>{"1", "latest"}));
    EXPECT_EQ(registry().manifestDigest(web, "latest"), registry().manifestDigest(web, "1"));

    // What docker inspect shows of the pushed image.
    const std::string reference = registry().host() + "/" + web + ":1";
    mustRun("docker", {"pull", reference});
    const std::string revision =
        mustRun("docker", {"inspect", "--format", "{{index .Config.Labels \"org.opencontainers.image.revision\"}}",
                           reference});
    const std::string version =
        mustRun("docker", {"inspect", "--format", "{{index .Config.Labels \"org.opencontainers.image.version\"}}",
                           reference});
    const std::string key =
        mustRun("docker", {"inspect", "--format", "{{index .Config.Labels \"io.slipway.content-key\"}}", reference});
    DockerEngine::removeImage(reference);
    EXPECT_EQ(revision, first + "\n");
    EXPECT_EQ(version, "1\n");
    EXPECT_EQ(key, byService(job)[web]->getValue<std::string>("content_key") + "\n");

    const std::string second = git_->commit({{web + "/payload.txt", "two\n"}, {"images.json", entry("2")}});
    ASSERT_EQ(daemon.waitForJob(deliverMerge(second, "tags-second-" + GetParam()))->getValue<std::string>("state"),
              "succeeded");
    EXPECT_EQ(registry().tags(web), (std::vector<std::string>{"1", "2", "latest"}));
    EXPECT_EQ(registry().manifestDigest(web, "latest"), registry().manifestDigest(web, "2"));
}

INSTANTIATE_TEST_SUITE_P(Backends, Releases, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
