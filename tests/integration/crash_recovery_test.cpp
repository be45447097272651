#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>

#include "tests/integration/command.h"
#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"
#include "tests/support/eventually.h"

namespace slipway::testing {
namespace {

using CrashRecovery = PipelineTest;

TEST_P(CrashRecovery, TwentyKillsDuringASeriesOfBuildsLoseNothingAndLeaveNothing) {
    const std::string a = unique("crash-a");
    const std::string b = unique("crash-b");
    std::vector<std::string> commits;
    for (int i = 0; i < 8; ++i) {
        commits.push_back(git_->commit(
            files({service(a, "sleep 0.3"), service(b, "sleep 0.2"),
                   {{a + "/payload.txt", "a " + std::to_string(i) + "\n"},
                    {"images.json", imagesJson({{a, "v" + std::to_string(i)}, {b, "v" + std::to_string(i)}})}}}),
            "commit " + std::to_string(i)));
    }
    SlipwayProcess& daemon = startDaemon("[builder]\nmax_attempts = 100\n");

    std::mt19937 random(20261127);
    std::uniform_int_distribution<int> pause(50, 1200);
    std::map<std::string, std::int64_t> accepted;  // delivery -> job, for every 202
    for (int kill = 0; kill < 20; ++kill) {
        if (kill < static_cast<int>(commits.size())) {
            const std::string delivery = "crash-" + std::to_string(kill) + "-" + GetParam();
            const HttpAnswer answer = daemon.sendWebhook(
                "pull_request", delivery, pullRequestPayload(kRepoName, "closed", true, commits[static_cast<std::size_t>(kill)]));
            ASSERT_EQ(answer.status, 202) << answer.body;
            accepted[delivery] = answer.json()->getArray("jobs")->getElement<std::int64_t>(0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(pause(random)));
        daemon.kill();
        daemon.restart();
    }

    Poco::JSON::Array::Ptr deliveries = daemon.get("/api/deliveries?limit=100").json()->getArray("deliveries");
    EXPECT_EQ(deliveries->size(), accepted.size());
    for (const auto& [delivery, jobId] : accepted) {
        const Poco::JSON::Object::Ptr job = daemon.waitForJob(jobId, 300);
        EXPECT_EQ(job->getValue<std::string>("state"), "succeeded") << delivery << ": " << job->getValue<std::string>("state");
        std::set<std::string> succeeded;
        Poco::JSON::Array::Ptr builds = job->getArray("builds");
        for (std::size_t i = 0; i < builds->size(); ++i) {
            Poco::JSON::Object::Ptr build = builds->getObject(static_cast<unsigned>(i));
            const std::string state = build->getValue<std::string>("state");
            if (state == "succeeded") {
                EXPECT_TRUE(succeeded.insert(build->getValue<std::string>("service")).second) << "built twice";
            } else {
                EXPECT_EQ(state, "failed");
                EXPECT_NE(build->getValue<std::string>("error").find("interrupted"), std::string::npos)
                    << build->getValue<std::string>("error");
            }
        }
        EXPECT_EQ(succeeded, (std::set<std::string>{a, b})) << delivery;
    }
    // Every build anywhere ended, and says why when it failed.
    Poco::JSON::Array::Ptr all = daemon.get("/api/builds?limit=200").json()->getArray("builds");
    for (std::size_t i = 0; i < all->size(); ++i) {
        Poco::JSON::Object::Ptr build = all->getObject(static_cast<unsigned>(i));
        const std::string state = build->getValue<std::string>("state");
        EXPECT_TRUE(state == "succeeded" || (state == "failed" && !build->isNull("error"))) << state;
    }
    EXPECT_EQ(IntegrationEnvironment::registry().tags(a).size(), commits.size());
    EXPECT_EQ(IntegrationEnvironment::registry().tags(b).size(), commits.size());

    // The work trees kept for the next jobs: each one whose note names a
    // commit holds exactly that commit's tree, however the kills cut its
    // checkouts short (one cut short has no note, and goes at the next checkout).
    const std::string work = dir_.path() + "/daemon/state/work";
    std::vector<std::string> names;
    Poco::File(work).list(names);
    EXPECT_EQ(names, std::vector<std::string>{"mono"});
    Poco::File(work + "/mono").list(names);
    int noted = 0;
    for (const std::string& name : names) {
        std::ifstream note(work + "/mono/" + name);
        std::string sha;
        if (name.size() < 7 || name.compare(name.size() - 7, 7, ".commit") != 0 || !(note >> sha)) continue;
        ++noted;
        const std::string tree = work + "/mono/" + name.substr(0, name.size() - 7);
        const std::string repo = dir_.path() + "/repo";
        std::set<std::string> expected;
        std::istringstream paths(mustRun("git", {"-C", repo, "ls-tree", "-r", "--name-only", sha}));
        for (std::string path; std::getline(paths, path);) expected.insert(path);
        std::set<std::string> found;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(tree)) {
            if (entry.is_directory()) continue;
            const std::string path = entry.path().lexically_relative(tree).string();
            found.insert(path);
            std::ifstream file(entry.path(), std::ios::binary);
            std::stringstream content;
            content << file.rdbuf();
            EXPECT_EQ(content.str(), mustRun("git", {"-C", repo, "show", sha + ":" + path})) << tree << "/" << path;
        }
        EXPECT_EQ(found, expected) << tree << " at " << sha;
    }
    EXPECT_GE(noted, 1);

    // Once the docker commands a killed slipwayd left behind have finished, no container is left.
    std::string containers;
    for (int i = 0; i < 120; ++i) {
        containers = mustRun("docker", {"ps", "--all", "--quiet", "--filter",
                                        "ancestor=" + IntegrationEnvironment::baseImage()});
        if (containers.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    EXPECT_EQ(containers, "");
}

// A job killed with its image built and its push waiting for a registry that
// is down, then failed for good at the restart (max_attempts = 1), never runs
// again to remove its local tag: the start does.
TEST_P(CrashRecovery, AStartRemovesTheLocalTagOfABuildThatWillNotRunAgain) {
    const std::string name = unique("leftover");
    const std::string sha = git_->commit(files({service(name), {{"images.json", imagesJson({{name, "1"}})}}}));
    DaemonOptions options = defaultOptions();
    // Nothing listens there: the push fails, and is tried again after 10 s.
    options.registryHost = "localhost:" + std::to_string(freeLoopbackPort());
    options.extraIni = "[builder]\nrepublish = overwrite\nmax_attempts = 1\nretries = 5\nretry_delay_ms = 10000\n";
    SlipwayProcess& daemon = startDaemon(options);
    const std::string image = options.registryHost + "/" + name + ":1";
    struct Remover {
        std::string image;
        ~Remover() { DockerEngine::removeImage(image); }
    } remover{image};
    const std::int64_t job = deliverMerge(sha, "leftover-" + GetParam());
    for (int i = 0; i < 600 && !DockerEngine::imageExists(image); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(DockerEngine::imageExists(image)) << "the build never tagged " << image << "\n" << daemon.output();
    daemon.kill();
    daemon.restart();
    EXPECT_EQ(daemon.waitForJob(job)->getValue<std::string>("state"), "failed");
    // Removed once slipwayd serves, before its first job runs.
    for (int i = 0; i < 200 && DockerEngine::imageExists(image); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_FALSE(DockerEngine::imageExists(image)) << "the start left " << image << " behind";
    // Said once the whole sweep has ended: a moment after the tag is gone.
    EXPECT_TRUE(slipway::testing::eventually(
        [&] { return daemon.output().find("removed the local tag " + image) != std::string::npos; }))
        << daemon.output();
}

// storage.keep_builds = 1 at a start: the older build of a service goes,
// with its log; each service's newest stays; /metrics shows the state folder.
TEST_P(CrashRecovery, AStartAppliesRetentionAndKeepsEachServicesNewestBuild) {
    const std::string api = unique("kept-api"), web = unique("kept-web");
    const std::string first = git_->commit(
        files({service(api), service(web), {{"images.json", imagesJson({{api, "1"}, {web, "1"}})}}}));
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr one = daemon.waitForJob(deliverMerge(first, "keep-one-" + GetParam()));
    ASSERT_EQ(one->getValue<std::string>("state"), "succeeded");
    // web leaves images.json: its one build stays its newest.
    const std::string second =
        git_->commit({{api + "/payload.txt", "changed\n"}, {"images.json", imagesJson({{api, "2"}})}});
    ASSERT_EQ(daemon.waitForJob(deliverMerge(second, "keep-two-" + GetParam()))->getValue<std::string>("state"),
              "succeeded");
    std::map<std::string, std::int64_t> firstBuilds;
    Poco::JSON::Array::Ptr builds = one->getArray("builds");
    for (std::size_t i = 0; i < builds->size(); ++i) {
        firstBuilds[builds->getObject(static_cast<unsigned>(i))->getValue<std::string>("service")] =
            builds->getObject(static_cast<unsigned>(i))->getValue<std::int64_t>("id");
    }
    const std::string oldLog = daemonDir() + "/state/logs/build-" + std::to_string(firstBuilds[api]) + ".log";
    ASSERT_TRUE(Poco::File(oldLog).exists());

    daemon_.reset();
    DaemonOptions options = defaultOptions();
    options.extraIni = "[storage]\nkeep_builds = 1\n";
    SlipwayProcess& restarted = startDaemon(options);
    for (int i = 0; i < 100 && restarted.get("/api/builds/" + std::to_string(firstBuilds[api])).status != 404; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(restarted.get("/api/builds/" + std::to_string(firstBuilds[api])).status, 404);
    EXPECT_FALSE(Poco::File(oldLog).exists());
    // web's only build is web's newest: it stays, though not among the newest one overall.
    EXPECT_EQ(restarted.get("/api/builds/" + std::to_string(firstBuilds[web])).status, 200);
    EXPECT_NE(restarted.get("/metrics").body.find("slipway_state_bytes{part=\"database\"}"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashRecovery, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
