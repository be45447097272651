#include <Poco/File.h>
#include <Poco/JSON/Array.h>

#include "backends/platform_support.h"
#include "daemon/registry/registry_client.h"
#include "tests/integration/command.h"
#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

// Images for linux/amd64 and linux/arm64 from one merge, with the real engine
// building arm64 under Debian's qemu-user-static (scripts/ensure-emulation.sh
// registers it) and the real registry holding each platform's image and the
// index. Nothing is pulled from outside: the base is an index of two busybox
// images (this host's, and busybox-static:arm64's from
// scripts/fetch-busybox-arm64.sh) pushed to the test registry first.
class MultiPlatform : public PipelineTest {
protected:
    static void SetUpTestSuite() {
        const std::string problem =
            PlatformSupport().problem(parsePlatform("linux/arm64"), parsePlatform("linux/amd64"));
        ASSERT_EQ(problem, "") << "scripts/ensure-emulation.sh registers the arm64 emulator";
        ASSERT_TRUE(Poco::File(SLIPWAY_BUSYBOX_ARM64).exists())
            << "no arm64 busybox at " << SLIPWAY_BUSYBOX_ARM64 << " (scripts/fetch-busybox-arm64.sh fetches it)";
        const std::string registry = IntegrationEnvironment::registry().host();
        base_ = registry + "/mp-base:1";
        TempDir dir;
        std::vector<PlatformImage> images;
        for (const auto& [architecture, busybox] :
             std::map<std::string, std::string>{{"amd64", "/bin/busybox"}, {"arm64", SLIPWAY_BUSYBOX_ARM64}}) {
            const std::string context = dir.path() + "/" + architecture;
            Poco::File(context).createDirectories();
            Poco::File(busybox).copyTo(context + "/busybox");
            dir.write(architecture + "/Dockerfile",
                      "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
            const std::string tag = registry + "/mp-base:1-linux-" + architecture;
            mustRun("docker", {"build", "--quiet", "--platform", "linux/" + architecture, "--tag", tag, context},
                    {{"DOCKER_BUILDKIT", "0"}});
            mustRun("docker", {"push", "--quiet", tag});
        }
        // The index through slipway's own registry client: what it writes for
        // a service is what every FROM of these tests resolves per platform.
        RegistryClient client({registry, "", ""}, std::chrono::seconds(30));
        for (const char* architecture : {"amd64", "arm64"}) {
            images.push_back(client.describe("mp-base", IntegrationEnvironment::registry().manifestDigest(
                                                            "mp-base", std::string("1-linux-") + architecture)));
        }
        client.publishIndex("mp-base", "1", images);
    }

    // A service whose image records the machine its RUN step ran on, and says it.
    std::map<std::string, std::string> machineService(const std::string& name, const std::string& run) {
        return {{name + "/Dockerfile", "FROM " + base_ + "\nRUN " + run + "\nCMD [\"cat\", \"/machine\"]\n"}};
    }

    static std::string entry(const std::string& name, const std::string& version) {
        return R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": ")" + version +
               R"(", "tags": ["latest"], "platforms": ["linux/amd64", "linux/arm64"]}])";
    }

    static Poco::JSON::Object::Ptr onlyBuild(const Poco::JSON::Object::Ptr& job) {
        return job->getArray("builds")->getObject(0);
    }

    static std::string base_;
};

std::string MultiPlatform::base_;

TEST_P(MultiPlatform, AnEntryForTwoPlatformsPublishesAnIndexThatPullsAndRunsOnEachAndIsReusedUnchanged) {
    const std::string name = unique("mp-machine");
    const std::string sha = git_->commit(files({machineService(name, "uname -m > /machine"),
                                                {{"images.json", entry(name, "1.0")}}}));
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "mp-first-" + GetParam()));
    ASSERT_EQ(job->getValue<std::string>("state"), "succeeded") << job->get("error").toString();
    const Poco::JSON::Object::Ptr build = onlyBuild(job);

    // The version is an index naming one image per platform, each of its architecture.
    RegistryClient client({IntegrationEnvironment::registry().host(), "", ""}, std::chrono::seconds(30));
    const std::optional<PublishedImage> index = client.find(name, "1.0");
    ASSERT_TRUE(index && index->index);
    EXPECT_EQ(build->getValue<std::string>("digest"), index->digest);
    EXPECT_EQ(IntegrationEnvironment::registry().manifestDigest(name, "latest"), index->digest);
    ASSERT_EQ(index->platformDigests.size(), 2u);
    const Poco::JSON::Array::Ptr platforms = build->getArray("platforms");
    ASSERT_EQ(platforms->size(), 2u);
    for (unsigned i = 0; i < 2; ++i) {
        const std::string platform = platforms->getObject(i)->getValue<std::string>("platform");
        const std::string digest = platforms->getObject(i)->getValue<std::string>("digest");
        EXPECT_EQ(index->platformDigests.at(platform), digest) << platform;
        EXPECT_EQ(client.describe(name, digest).platform.text(), platform);
    }
    const std::string log =
        daemon.get("/api/builds/" + std::to_string(build->getValue<std::int64_t>("id")) + "/log").body;
    EXPECT_NE(log.find("[slipway: linux/arm64: " + IntegrationEnvironment::registry().host() + "/" + name +
                       ":1.0-linux-arm64 is " + index->platformDigests.at("linux/arm64") + "]"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("is an index of 2 platforms: " + index->digest), std::string::npos) << log;

    // Pulled for arm64 and run (under the emulator), it is an arm64 image.
    const std::string image = IntegrationEnvironment::registry().host() + "/" + name + ":1.0";
    for (const auto& [platform, machine] :
         std::map<std::string, std::string>{{"linux/arm64", "aarch64"}, {"linux/amd64", "x86_64"}}) {
        mustRun("docker", {"pull", "--quiet", "--platform", platform, image});
        EXPECT_EQ(mustRun("docker", {"run", "--rm", "--platform", platform, image}), machine + "\n") << platform;
        mustRun("docker", {"rmi", image});
    }

    // /readyz says the engine builds arm64 too.
    const std::string ready = daemon.get("/readyz").body;
    EXPECT_NE(ready.find("\"linux/arm64\""), std::string::npos) << ready;

    // The same content again: the index is reused, nothing is built or pushed.
    // Beside it, a service that names no platform builds FROM the same base:
    // the engine's own platform was built last, so the engine's copy of the
    // base is its own again, and the build (checked before its push) succeeds.
    const std::string plain = unique("mp-plain");
    std::string both = entry(name, "1.0");
    both.pop_back();
    both += R"(, {"service_name": ")" + plain + R"(", "type": "Docker", "version": "1.0"}])";
    const std::string again = git_->commit(files({machineService(plain, "uname -m > /machine"), {{"images.json", both}}}));
    const Poco::JSON::Object::Ptr reused = daemon.waitForJob(deliverMerge(again, "mp-again-" + GetParam()));
    ASSERT_EQ(reused->getValue<std::string>("state"), "succeeded") << reused->get("error").toString();
    std::map<std::string, Poco::JSON::Object::Ptr> builds;
    for (unsigned i = 0; i < reused->getArray("builds")->size(); ++i) {
        const Poco::JSON::Object::Ptr b = reused->getArray("builds")->getObject(i);
        builds[b->getValue<std::string>("service")] = b;
    }
    EXPECT_TRUE(builds.at(name)->getValue<bool>("reused"));
    EXPECT_EQ(builds.at(name)->getValue<std::string>("digest"), index->digest);
    EXPECT_EQ(IntegrationEnvironment::registry().manifestDigest(name, "1.0"), index->digest);
    EXPECT_FALSE(builds.at(plain)->getValue<bool>("reused"));
    EXPECT_EQ(builds.at(plain)->getArray("platforms")->size(), 0u);
}

TEST_P(MultiPlatform, ADockerfileThatFailsOnArm64OnlyPublishesNothingUnderTheVersion) {
    const std::string name = unique("mp-x86-only");
    const std::string sha = git_->commit(files({machineService(name, "test \"$(uname -m)\" = x86_64 && uname -m > /machine"),
                                                {{"images.json", entry(name, "1.0")}}}));
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "mp-fail-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "failed");
    const Poco::JSON::Object::Ptr build = onlyBuild(job);
    const std::string error = build->getValue<std::string>("error");
    EXPECT_EQ(error.rfind("linux/arm64: ", 0), 0u) << error;
    EXPECT_NE(error.find("nothing is published under " + IntegrationEnvironment::registry().host() + "/" + name +
                         ":1.0"),
              std::string::npos)
        << error;
    EXPECT_TRUE(build->isNull("digest"));
    // arm64 is built first (the engine's own platform last), so nothing at all:
    // neither the version nor latest nor a platform's tag.
    EXPECT_EQ(IntegrationEnvironment::registry().tags(name), std::vector<std::string>{});
    const Poco::JSON::Array::Ptr platforms = build->getArray("platforms");
    ASSERT_EQ(platforms->size(), 2u);
    EXPECT_TRUE(platforms->getObject(0)->isNull("digest"));
    EXPECT_TRUE(platforms->getObject(1)->isNull("digest"));

    // The arm64 build's --pull left the engine's copy of the base as arm64's.
    // A service that names no platform, FROM it, is built again for the
    // engine's own platform and published as that, not as arm64.
    const std::string plain = unique("mp-after");
    const std::string next = git_->commit(files(
        {machineService(plain, "uname -m > /machine"),
         {{"images.json", R"([{"service_name": ")" + plain + R"(", "type": "Docker", "version": "1.0"}])"}}}));
    const std::set<std::string> dangling = DockerEngine::danglingImages();
    const Poco::JSON::Object::Ptr after = daemon.waitForJob(deliverMerge(next, "mp-after-" + GetParam()));
    ASSERT_EQ(after->getValue<std::string>("state"), "succeeded") << after->get("error").toString();
    EXPECT_EQ(DockerEngine::danglingImages(), dangling) << "the arm64 image built first is not left behind";
    const Poco::JSON::Object::Ptr rebuilt = onlyBuild(after);
    RegistryClient client({IntegrationEnvironment::registry().host(), "", ""}, std::chrono::seconds(30));
    EXPECT_EQ(client.describe(plain, rebuilt->getValue<std::string>("digest")).platform.text(), "linux/amd64");
    const std::string log =
        daemon.get("/api/builds/" + std::to_string(rebuilt->getValue<std::int64_t>("id")) + "/log").body;
    EXPECT_NE(log.find("was built for linux/arm64, not the engine's own linux/amd64; building it again"),
              std::string::npos)
        << log;
}

INSTANTIATE_TEST_SUITE_P(Backends, MultiPlatform, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
