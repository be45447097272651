#include "daemon/pipeline/job_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>
#include <thread>

#include <gtest/gtest.h>

#include "daemon/pipeline/build_events.h"
#include "daemon/pipeline/content_key.h"
#include "daemon/reporters/metrics.h"
#include "daemon/source/git_handles.h"
#include "storage/clock.h"
#include "storage/sqlite_connection.h"
#include "tests/integration/git_fixture.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// Stands in for the registry's API: what each tag names, as pushes and the test set it.
class FakeImageRegistry : public ImageRegistry {
public:
    std::optional<PublishedImage> find(const std::string& repository, const std::string& tag) override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++finds;
        if (failures > 0) {
            --failures;
            throw RegistryError("looking up " + repository + ":" + tag + ": the registry answered 503", true);
        }
        auto it = tags.find(repository + ":" + tag);
        if (it == tags.end()) return std::nullopt;
        return it->second;
    }
    void retag(const std::string& repository, const std::string& fromTag, const std::string& toTag) override {
        std::lock_guard<std::mutex> lock(mutex_);
        auto from = tags.find(repository + ":" + fromTag);
        if (from == tags.end()) throw RegistryError("no " + repository + ":" + fromTag + " to tag", false);
        tags[repository + ":" + toTag] = from->second;
        retagged.push_back(repository + ":" + toTag);
    }
    // What a push puts there: "localhost:5999/<service>:<tag>" with its
    // labels, built for `platform` ("": the engine's).
    void pushed(const std::string& image, const std::string& digest, std::map<std::string, std::string> labels,
                const std::string& platform = "") {
        std::lock_guard<std::mutex> lock(mutex_);
        tags[image.substr(image.find('/') + 1)] = {digest, std::move(labels), false, {}};
        platformOf[digest] = platform.empty() ? "linux/amd64" : platform;
    }
    PlatformImage describe(const std::string& repository, const std::string& digest) override {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = platformOf.find(digest);
        if (it == platformOf.end()) throw RegistryError("no " + repository + "@" + digest, false);
        return {parsePlatform(it->second), digest, "application/vnd.docker.distribution.manifest.v2+json", 500};
    }
    std::string publishIndex(const std::string& repository, const std::string& tag,
                             const std::vector<PlatformImage>& images) override {
        std::lock_guard<std::mutex> lock(mutex_);
        PublishedImage index{"sha256:" + std::string(64, 'e'), {}, true, {}};
        indexOrder.clear();
        for (const PlatformImage& image : images) {
            indexOrder.push_back(image.platform.text());
            index.platformDigests[image.platform.text()] = image.digest;
            // An index's labels are its first image's.
            for (const auto& [name, published] : tags) {
                if (published.digest == images.front().digest) index.labels = published.labels;
            }
        }
        tags[repository + ":" + tag] = index;
        indexes.push_back(repository + ":" + tag);
        return index.digest;
    }

    std::map<std::string, PublishedImage> tags;  // "service:tag"
    std::vector<std::string> retagged;
    std::vector<std::string> indexes;            // "service:tag" of each index written
    std::vector<std::string> indexOrder;         // the platforms of the last index, in its order
    std::map<std::string, std::string> platformOf;  // digest -> the platform its image was built for
    int finds = 0;
    int failures = 0;  // lookups that fail as an unavailable registry does, first

private:
    std::mutex mutex_;
};

// Builds take a while and count how many run at once; an image whose name
// contains "broken" fails to build (with "armbroken", only for linux/arm64;
// with "amdbroken", only for linux/amd64; with "localonly", whenever it is
// built for a platform, as a base that cannot be pulled makes it),
// one whose name contains "flaky" finds the engine unreachable the first
// time. Pushes and removes succeed at once; an image built for a platform is
// pushed with a digest of that platform's own.
class SlowBackend : public Backend {
public:
    void build(const BuildRequest& request, std::ostream& log) override {
        if (beforeBuild) beforeBuild();
        if (holdUntilReleased) {
            ++running_;
            while (!released) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            --running_;
            throw BackendError("docker build of " + request.image + ": killed");  // as by abort()
        }
        {
            std::lock_guard<std::mutex> lock(labelsMutex_);
            labelsOf[request.image] = request.labels;
            argsOf[request.image] = request.buildArgs;
            platformOf[request.image] = request.platform;
            built.push_back(request.image);
        }
        const int now = ++running_;
        int seen = most_;
        while (now > seen && !most_.compare_exchange_weak(seen, now)) {
        }
        ++builds;
        if (vanishingBuilds > 0) {
            --vanishingBuilds;
            --running_;
            throw BackendError(FailureKind::ImageVanished,
                               "build of " + request.image + " failed at step 2/2: failed to get digest sha256:1234: "
                               "no such file or directory");
        }
        if (request.image.find("flaky") != std::string::npos && flakyFailures.fetch_sub(1) > 0) {
            --running_;
            throw BackendError(FailureKind::EngineUnreachable, "cannot reach the Docker engine: connection refused");
        }
        log << "building " << request.image << "\n";
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        --running_;
        if (request.image.find("armbroken") != std::string::npos && request.platform == "linux/arm64") {
            throw BackendError("docker build of " + request.image + ": exec format error");
        }
        if (request.image.find("localonly") != std::string::npos && !request.platform.empty()) {
            throw BackendError("docker build of " + request.image + ": pull access denied");
        }
        if (request.image.find("amdbroken") != std::string::npos && request.platform == "linux/amd64") {
            throw BackendError("docker build of " + request.image + ": exit status 1");
        }
        if (request.image.find("broken") != std::string::npos && request.image.find("armbroken") == std::string::npos &&
            request.image.find("amdbroken") == std::string::npos) {
            throw BackendError("docker build of " + request.image + ": exit status 1");
        }
    }
    std::string push(const std::string& image, std::ostream&) override {
        if (vanishingPushes > 0) {
            --vanishingPushes;
            throw BackendError(FailureKind::ImageVanished, "push of " + image + ": could not find image from tag " +
                                                               image + ": failed to get digest sha256:1234: no such "
                                                                       "file or directory");
        }
        std::lock_guard<std::mutex> lock(labelsMutex_);
        const std::string& platform = platformOf[image];
        const char mark = platform.empty() ? 'a' : platform == "linux/amd64" ? 'b' : platform == "linux/arm64" ? 'c' : 'd';
        const std::string digest = "sha256:" + std::string(64, mark);
        registry.pushed(image, digest, labelsOf[image], platform);
        pushes.push_back(image);
        return digest;
    }
    void remove(const std::string& image, std::ostream&) override {
        std::lock_guard<std::mutex> lock(labelsMutex_);
        removed.push_back(image);
    }
    Platform imagePlatform(const std::string& image) override {
        std::lock_guard<std::mutex> lock(labelsMutex_);
        if (!builtFor.empty()) return parsePlatform(builtFor);
        const auto built = platformOf.find(image);
        const std::string platform = built == platformOf.end() ? "" : built->second;
        if (platform.empty()) return parsePlatform(baseWithoutPlatform.empty() ? "linux/amd64" : baseWithoutPlatform);
        return parsePlatform(platform);
    }
    std::vector<LocalImage> taggedImages(const std::string&, const std::string&) override { return {}; }
    Platform ping() override { return {"linux", "amd64", ""}; }
    void abort() override {}

    int most() const { return most_; }

    FakeImageRegistry registry;  // where pushes land

    // The labels and build arguments of each image's last build.
    std::map<std::string, std::map<std::string, std::string>> labelsOf;
    std::map<std::string, std::map<std::string, std::string>> argsOf;
    std::map<std::string, std::string> platformOf;  // each image's last build's --platform
    std::vector<std::string> built, pushes, removed;  // images, in order
    // When set, every image is of this platform, as a FROM naming one platform's image makes it.
    std::string builtFor;
    // When set, an image built for no platform is of this one, as the engine's
    // copy of a base left by another platform's --pull makes it.
    std::string baseWithoutPlatform;
    int running() const { return running_; }

    // Builds and pushes that fail as if an image they need had been removed meanwhile.
    std::atomic<int> vanishingBuilds{0};
    std::atomic<int> vanishingPushes{0};
    std::atomic<int> builds{0};
    std::atomic<int> flakyFailures{1};
    // Runs at the start of every build, on the build's thread.
    std::function<void()> beforeBuild;
    // Builds wait for `released` and then fail, as a build killed by a stop does.
    std::atomic<bool> holdUntilReleased{false};
    std::atomic<bool> released{false};

private:
    std::mutex labelsMutex_;
    std::atomic<int> running_{0};
    std::atomic<int> most_{0};
};

class JobRunnerTest : public ::testing::Test {
protected:
    // A commit whose images.json lists `services`, each with a Dockerfile.
    std::string commitServices(const std::vector<std::string>& services) {
        std::map<std::string, std::string> files;
        std::string manifest = "[";
        for (const std::string& name : services) {
            files[name + "/Dockerfile"] = "FROM scratch\n";
            manifest += std::string(manifest.size() > 1 ? ", " : "") + R"({"service_name": ")" + name +
                        R"(", "type": "Docker", "version": "1.0"})";
        }
        files["images.json"] = manifest + "]";
        return git_.commit(files);
    }

    // Runs the job for `sha` with `concurrency` build slots; returns it as it
    // ended. `during`, when given, runs on another thread meanwhile, with the runner.
    Job run(const std::string& sha, unsigned concurrency, std::function<void(JobRunner&)> during = {}) {
        RepoSettings repo;
        repo.alias = "exam";
        repo.name = "acme/exam";
        repo.url = git_.url();
        repo.branches = {"main"};
        JobRunnerSettings settings;
        settings.registryHost = "localhost:5999";
        settings.logDir = dir_.path() + "/logs";
        settings.repos = {repo};
        settings.retry = RetryPolicy{retries_, std::chrono::milliseconds(1), std::chrono::milliseconds(1)};
        settings.concurrency = concurrency;
        Poco::File(settings.logDir).createDirectories();
        settings.republish = republish_;
        settings.platforms = platforms_;
        binfmt_.write("status", "enabled\n");
        binfmt_.write("qemu-aarch64", "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n");
        settings.platformSupport = PlatformSupport(binfmt_.path());
        JobRunner runner(settings, store_, checkout_, backend_, backend_.registry, *events_);
        std::int64_t pending = 0;
        const std::int64_t id = store_.queueJob({"exam", sha, "", 1}, pending);
        const std::optional<Job> job = store_.claimJob();
        EXPECT_TRUE(job && job->id == id);
        std::thread other;
        if (during) other = std::thread([&] { during(runner); });
        runner.run(*job);
        if (other.joinable()) other.join();
        return *store_.job(id);
    }

    // What build `id` wrote to its log.
    std::string logOf(std::int64_t id) const {
        std::ifstream file(dir_.path() + "/logs/build-" + std::to_string(id) + ".log");
        return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    }

    GitLibrary library_;
    testing::TempDir dir_;
    testing::GitFixture git_{dir_.path() + "/repo"};
    SystemClock clock_;
    Store store_{dir_.path() + "/slipway.db", clock_};
    Checkout checkout_{dir_.path() + "/repos", dir_.path() + "/work", std::chrono::seconds(30)};
    SlowBackend backend_;
    FakeImageRegistry& registry_ = backend_.registry;
    Republish republish_ = Republish::Refuse;
    std::vector<Platform> platforms_;  // builder.platforms
    // binfmt_misc as qemu-user-static leaves it: an emulator for arm64, none for s390x.
    testing::TempDir binfmt_;
    Metrics metrics_;
    BuildEvents* events_ = &metrics_;  // what the runner announces to
    int retries_ = 0;                  // of a step that failed for a transient reason
};

// Every event it hears, one line each, as "<service> <event>" ("job <event>" for the job's).
class RecordingEvents : public BuildEvents {
public:
    void jobStarted(const Job&) override { add("job started"); }
    void jobFinished(const Job& job) override { add(std::string("job ") + toString(job.state)); }
    void buildQueued(const Build& b) override { add(b.service + " queued"); }
    void buildStarted(const Build& b) override { add(b.service + " " + toString(b.state)); }
    void buildRetrying(const Build& b, const std::string&, std::chrono::milliseconds, int retry, int of) override {
        add(b.service + " retry " + std::to_string(retry) + " of " + std::to_string(of));
    }
    void stepTimed(const Build& b, BuildStep step, double) override {
        add(b.service + (step == BuildStep::Build ? " build timed" : " push timed"));
    }
    void buildFinished(const Build& b) override {
        add(b.service + " " + toString(b.state) + (b.digest.empty() ? "" : " with digest"));
    }

    // What was heard about `subject` (a service, or "job"), in order.
    std::vector<std::string> of(const std::string& subject) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> heard;
        for (const std::string& line : lines_) {
            if (line.rfind(subject + " ", 0) == 0) heard.push_back(line.substr(subject.size() + 1));
        }
        return heard;
    }

private:
    void add(const std::string& line) {
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back(line);
    }
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

TEST_F(JobRunnerTest, BuildsTheServicesOfAJobInParallelUpToTheConcurrency) {
    const std::string sha = commitServices({"a", "b", "c", "d"});
    const auto start = std::chrono::steady_clock::now();
    const Job job = run(sha, 4);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(job.state, RunState::Succeeded) << job.error;
    EXPECT_EQ(backend_.most(), 4);
    EXPECT_LT(took, std::chrono::milliseconds(1200)) << "four 300 ms builds one after another";
    const std::vector<Build> builds = store_.buildsOfJob(job.id);
    ASSERT_EQ(builds.size(), 4u);
    for (const Build& b : builds) {
        EXPECT_EQ(b.state, RunState::Succeeded) << b.service;
        EXPECT_EQ(b.digest, "sha256:" + std::string(64, 'a'));
        // Each build keeps a log of its own.
        std::ifstream log(dir_.path() + "/logs/build-" + std::to_string(b.id) + ".log");
        std::string line;
        std::getline(log, line);
        EXPECT_EQ(line, "building localhost:5999/" + b.service + ":1.0");
    }
}

TEST_F(JobRunnerTest, NeverRunsMoreBuildsThanTheConcurrency) {
    const Job job = run(commitServices({"a", "b", "c", "d", "e"}), 2);
    EXPECT_EQ(job.state, RunState::Succeeded) << job.error;
    EXPECT_EQ(backend_.most(), 2);
    EXPECT_EQ(store_.buildsOfJob(job.id).size(), 5u);
}

TEST_F(JobRunnerTest, WithConcurrencyOneBuildsOneAtATime) {
    const Job job = run(commitServices({"a", "b", "c"}), 1);
    EXPECT_EQ(job.state, RunState::Succeeded) << job.error;
    EXPECT_EQ(backend_.most(), 1);
}

TEST_F(JobRunnerTest, AFailedServiceDoesNotStopTheOthers) {
    const Job job = run(commitServices({"a", "broken", "c", "d"}), 4);
    EXPECT_EQ(job.state, RunState::Failed);
    EXPECT_EQ(job.error, "1 of 4 services failed; see their builds");
    std::map<std::string, RunState> states;
    for (const Build& b : store_.buildsOfJob(job.id)) states[b.service] = b.state;
    EXPECT_EQ(states, (std::map<std::string, RunState>{
                          {"a", RunState::Succeeded}, {"broken", RunState::Failed}, {"c", RunState::Succeeded}, {"d", RunState::Succeeded}}));
}

TEST_F(JobRunnerTest, AnImageRemovedBeforeItsPushIsBuiltOnceMore) {
    backend_.vanishingPushes = 1;
    const Job job = run(commitServices({"a"}), 1);
    EXPECT_EQ(job.state, RunState::Succeeded) << job.error;
    EXPECT_EQ(backend_.builds, 2);
    const std::vector<Build> builds = store_.buildsOfJob(job.id);
    ASSERT_EQ(builds.size(), 1u);
    EXPECT_EQ(builds[0].state, RunState::Succeeded);
    std::ifstream log(dir_.path() + "/logs/build-" + std::to_string(builds[0].id) + ".log");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("an image it needs was removed meanwhile, building it again"), std::string::npos) << text;
}

TEST_F(JobRunnerTest, ABuildWhoseCachedLayerWasRemovedRunsOnceMore) {
    backend_.vanishingBuilds = 1;
    const Job job = run(commitServices({"a"}), 1);
    EXPECT_EQ(job.state, RunState::Succeeded) << job.error;
    EXPECT_EQ(backend_.builds, 2);
}

TEST_F(JobRunnerTest, AnImageRemovedTwiceFailsTheBuildSayingWhy) {
    backend_.vanishingPushes = 2;
    const Job job = run(commitServices({"a"}), 1);
    EXPECT_EQ(job.state, RunState::Failed);
    EXPECT_EQ(backend_.builds, 2);
    const std::vector<Build> builds = store_.buildsOfJob(job.id);
    ASSERT_EQ(builds.size(), 1u);
    EXPECT_NE(builds[0].error.find("could not find image from tag"), std::string::npos) << builds[0].error;
}

TEST_F(JobRunnerTest, AListenerHearsEveryTransitionOfABuildThatSucceedsOneThatFailsAndOneRetried) {
    RecordingEvents heard;
    BuildEventHub hub;
    hub.add(heard);
    hub.add(metrics_);
    events_ = &hub;
    retries_ = 1;
    const Job job = run(commitServices({"good", "broken", "flaky"}), 3);
    EXPECT_EQ(job.state, RunState::Failed);

    EXPECT_EQ(heard.of("job"), (std::vector<std::string>{"started", "failed"}));
    EXPECT_EQ(heard.of("good"),
              (std::vector<std::string>{"queued", "running", "build timed", "push timed", "succeeded with digest"}));
    EXPECT_EQ(heard.of("broken"), (std::vector<std::string>{"queued", "running", "build timed", "failed"}));
    EXPECT_EQ(heard.of("flaky"), (std::vector<std::string>{"queued", "running", "retry 1 of 1", "build timed",
                                                           "push timed", "succeeded with digest"}));
    // The hub hands each event to every listener.
    const std::string metrics = metrics_.render(0, 0);
    EXPECT_NE(metrics.find("slipway_builds_total{state=\"succeeded\"} 2"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("slipway_builds_total{state=\"failed\"} 1"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("slipway_build_duration_seconds_count 3"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("slipway_push_duration_seconds_count 2"), std::string::npos) << metrics;
}

TEST_F(JobRunnerTest, LabelsEachImageWithWhereItCameFromAndPassesItsBuildArgs) {
    const std::string sha = git_.commit(
        {{"a/Dockerfile", "FROM scratch\n"},
         {"images.json", R"([{"service_name": "a", "type": "Docker", "version": "1.0", "build_args": {"V": "7"}}])"}});
    const Job job = run(sha, 1);
    EXPECT_EQ(job.state, RunState::Succeeded) << job.error;
    const std::map<std::string, std::string> labels = backend_.labelsOf.at("localhost:5999/a:1.0");
    EXPECT_EQ(labels.at("org.opencontainers.image.revision"), sha);
    EXPECT_EQ(labels.at("org.opencontainers.image.version"), "1.0");
    EXPECT_EQ(labels.at("org.opencontainers.image.source"), git_.url());
    EXPECT_EQ(labels.at("io.slipway.tree").size(), 40u);
    EXPECT_EQ(labels.at("io.slipway.content-key"),
              contentKey({labels.at("io.slipway.tree"), "Dockerfile", {{"V", "7"}}, {}}));
    EXPECT_EQ(labels.at("io.slipway.content-key"), store_.buildsOfJob(job.id).at(0).contentKey);
    EXPECT_EQ(backend_.argsOf.at("localhost:5999/a:1.0"), (std::map<std::string, std::string>{{"V", "7"}}));
}

TEST_F(JobRunnerTest, ReusesATagPublishedFromTheSameContentAndRefusesOneFromOther) {
    const std::string first = commitServices({"a", "b"});
    ASSERT_EQ(run(first, 2).state, RunState::Succeeded);
    ASSERT_EQ(backend_.builds, 2);
    // What the registry now holds, as those builds labelled it.
    const std::string digestA = "sha256:" + std::string(64, 'a');
    const std::string digestB = "sha256:" + std::string(64, 'b');
    registry_.tags["a:1.0"] = {digestA, backend_.labelsOf.at("localhost:5999/a:1.0"), false, {}};
    registry_.tags["b:1.0"] = {digestB, backend_.labelsOf.at("localhost:5999/b:1.0"), false, {}};

    // A merge that changes b/ alone, without a version bump.
    const std::string second = git_.commit({{"b/extra.txt", "changed\n"}});
    const Job job = run(second, 2);
    EXPECT_EQ(job.state, RunState::Failed);
    EXPECT_EQ(backend_.builds, 2) << "nothing was handed to the backend";
    std::map<std::string, Build> builds;
    for (const Build& b : store_.buildsOfJob(job.id)) builds[b.service] = b;
    EXPECT_EQ(builds["a"].state, RunState::Succeeded);
    EXPECT_TRUE(builds["a"].reused);
    EXPECT_EQ(builds["a"].digest, digestA);
    EXPECT_EQ(builds["b"].state, RunState::Failed);
    EXPECT_FALSE(builds["b"].reused);
    const std::string tree = backend_.labelsOf.at("localhost:5999/b:1.0").at("io.slipway.tree");
    EXPECT_EQ(builds["b"].error.rfind("b:1.0 is already published from tree " + tree.substr(0, 12) + " (commit " +
                                          first.substr(0, 12) + ", build ",
                                      0),
              0u)
        << builds["b"].error;
    EXPECT_NE(builds["b"].error.find("; this commit changes b/ (tree "), std::string::npos) << builds["b"].error;
    EXPECT_NE(builds["b"].error.find("bump its version in images.json"), std::string::npos) << builds["b"].error;

    // builder.republish = overwrite: built and pushed, without asking the registry.
    republish_ = Republish::Overwrite;
    const int asked = registry_.finds;
    EXPECT_EQ(run(second, 2).state, RunState::Succeeded);
    EXPECT_EQ(backend_.builds, 4);
    EXPECT_EQ(registry_.finds, asked);
}

TEST_F(JobRunnerTest, ATagSlipwayDidNotPushIsRefused) {
    registry_.tags["a:1.0"] = {"sha256:" + std::string(64, 'c'), {{"maintainer", "someone"}}, false, {}};
    const Job job = run(commitServices({"a"}), 1);
    EXPECT_EQ(job.state, RunState::Failed);
    EXPECT_EQ(backend_.builds, 0);
    const Build build = store_.buildsOfJob(job.id).at(0);
    EXPECT_NE(build.error.find("a:1.0 is already published, but not by slipway"), std::string::npos) << build.error;
}

TEST_F(JobRunnerTest, OtherTagsFollowTheVersionWhetherBuiltOrReused) {
    const std::string sha = git_.commit(
        {{"a/Dockerfile", "FROM scratch\n"},
         {"images.json", R"([{"service_name": "a", "type": "Docker", "version": "1.0", "tags": ["latest", "stable"]}])"}});
    // The tag is absent: built and pushed, then the others point at it.
    ASSERT_EQ(run(sha, 1).state, RunState::Succeeded);
    EXPECT_EQ(registry_.retagged, (std::vector<std::string>{"a:latest", "a:stable"}));

    // Reused: a tag that is missing is made, one that names another image is
    // left (an older commit built again must not move "latest" back).
    registry_.tags["a:1.0"] = {"sha256:" + std::string(64, 'd'), backend_.labelsOf.at("localhost:5999/a:1.0"), false, {}};
    registry_.tags.erase("a:stable");
    registry_.retagged.clear();
    const Job again = run(git_.commit({{"unrelated.txt", "x\n"}}), 1);
    EXPECT_EQ(again.state, RunState::Succeeded) << again.error;
    EXPECT_TRUE(store_.buildsOfJob(again.id).at(0).reused);
    EXPECT_EQ(registry_.retagged, (std::vector<std::string>{"a:stable"}));
    EXPECT_EQ(registry_.tags["a:stable"].digest, "sha256:" + std::string(64, 'd'));
    EXPECT_EQ(registry_.tags["a:latest"].digest, "sha256:" + std::string(64, 'a'));
}

TEST_F(JobRunnerTest, ATagThatIsAPublishedVersionIsNeverMoved) {
    const std::string first = git_.commit(
        {{"a/Dockerfile", "FROM scratch\n"}, {"images.json", R"([{"service_name": "a", "type": "Docker", "version": "1.0"}])"}});
    ASSERT_EQ(run(first, 1).state, RunState::Succeeded);
    const PublishedImage published = registry_.tags.at("a:1.0");
    const std::string second = git_.commit(
        {{"a/Dockerfile", "FROM scratch\nLABEL x=y\n"},
         {"images.json", R"([{"service_name": "a", "type": "Docker", "version": "1.1", "tags": ["1.0"]}])"}});
    const Job job = run(second, 1);
    EXPECT_EQ(job.state, RunState::Failed);
    const Build build = store_.buildsOfJob(job.id).at(0);
    EXPECT_EQ(build.error, "pushed localhost:5999/a:1.1 (" + build.digest +
                               "), but tags lists \"1.0\", a published version of a, which slipway never moves");
    EXPECT_FALSE(build.digest.empty()) << "the version that was pushed keeps its digest";
    EXPECT_EQ(registry_.tags.at("a:1.0").labels, published.labels) << "1.0 was moved";
}

TEST_F(JobRunnerTest, ARegistryThatIsAwayForAMomentIsAskedAgain) {
    retries_ = 2;
    registry_.failures = 1;
    const Job job = run(commitServices({"a"}), 1);
    EXPECT_EQ(job.state, RunState::Succeeded) << job.error;
    const std::string log = [&] {
        std::ifstream in(dir_.path() + "/logs/build-" + std::to_string(store_.buildsOfJob(job.id).at(0).id) + ".log");
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }();
    EXPECT_NE(log.find("the registry answered 503"), std::string::npos) << log;
}

TEST_F(JobRunnerTest, AStopLeavesTheJobRunningAndStartsNoFurtherBuild) {
    backend_.holdUntilReleased = true;
    const Job job = run(commitServices({"a", "b", "c", "d"}), 2, [this](JobRunner& runner) {
        // Stopped and released whatever came of the wait, so that the test ends.
        EXPECT_TRUE(testing::eventually([this] { return backend_.running() >= 2; })) << "two builds never ran";
        runner.stop();
        backend_.released = true;
    });
    // Left running for the next start to queue again; nothing recorded as failed.
    EXPECT_EQ(job.state, RunState::Running);
    std::map<RunState, int> states;
    for (const Build& b : store_.buildsOfJob(job.id)) ++states[b.state];
    EXPECT_EQ(states, (std::map<RunState, int>{{RunState::Running, 2}, {RunState::Queued, 2}}));
}

// One service "a" at version 1.0 with `platforms` (a JSON array; empty: none named).
std::string platformEntry(const std::string& name, const std::string& platforms) {
    return R"({"service_name": ")" + name + R"(", "type": "Docker", "version": "1.0", "tags": ["latest"])" +
           (platforms.empty() ? "" : R"(, "platforms": )" + platforms) + "}";
}

TEST_F(JobRunnerTest, EachPlatformIsPushedThenTheVersionBecomesAnIndexOfThem) {
    const std::string sha = git_.commit(
        {{"a/Dockerfile", "FROM scratch\n"}, {"images.json", "[" + platformEntry("a", R"(["linux/amd64", "linux/arm64"])") + "]"}});
    const Job job = run(sha, 1);
    ASSERT_EQ(job.state, RunState::Succeeded) << job.error;
    // The engine's own platform last, so that the bases it pulled are its own afterwards.
    EXPECT_EQ(backend_.built, (std::vector<std::string>{"localhost:5999/a:1.0-linux-arm64", "localhost:5999/a:1.0-linux-amd64"}));
    EXPECT_EQ(backend_.platformOf["localhost:5999/a:1.0-linux-arm64"], "linux/arm64");
    EXPECT_EQ(backend_.removed, backend_.pushes) << "each platform's image leaves the engine once pushed";
    EXPECT_EQ(registry_.indexes, (std::vector<std::string>{"a:1.0"}));
    const PublishedImage& index = registry_.tags.at("a:1.0");
    EXPECT_TRUE(index.index);
    const std::string amd64 = "sha256:" + std::string(64, 'b');
    const std::string arm64 = "sha256:" + std::string(64, 'c');
    EXPECT_EQ(index.platformDigests, (std::map<std::string, std::string>{{"linux/amd64", amd64}, {"linux/arm64", arm64}}));
    EXPECT_EQ(registry_.indexOrder, (std::vector<std::string>{"linux/amd64", "linux/arm64"})) << "images.json's order";
    EXPECT_EQ(registry_.tags.at("a:latest").digest, index.digest) << "other tags name the index too";

    const Build build = store_.buildsOfJob(job.id).at(0);
    EXPECT_EQ(build.digest, index.digest);
    EXPECT_EQ(build.platforms, (std::vector<BuildPlatform>{{"linux/amd64", amd64}, {"linux/arm64", arm64}}));
    EXPECT_EQ(build.contentKey,
              contentKey({backend_.labelsOf.at("localhost:5999/a:1.0-linux-amd64").at("io.slipway.tree"), "Dockerfile", {},
                          {parsePlatform("linux/amd64"), parsePlatform("linux/arm64")}}));
    const std::string log = logOf(build.id);
    EXPECT_NE(log.find("[slipway: linux/arm64: localhost:5999/a:1.0-linux-arm64 is " + arm64 + "]"), std::string::npos) << log;
    EXPECT_NE(log.find("[slipway: localhost:5999/a:1.0 is an index of 2 platforms: " + index.digest + "]"), std::string::npos) << log;

    // The same content again: reused as the index it is, each platform's digest read from it.
    const Job again = run(git_.commit({{"unrelated.txt", "x\n"}}), 1);
    ASSERT_EQ(again.state, RunState::Succeeded) << again.error;
    const Build reused = store_.buildsOfJob(again.id).at(0);
    EXPECT_TRUE(reused.reused);
    EXPECT_EQ(reused.digest, index.digest);
    EXPECT_EQ(reused.platforms, build.platforms);
    EXPECT_EQ(backend_.built.size(), 2u) << "nothing built again";

    // A platform added without a version bump is other content: refused.
    const Job added = run(git_.commit({{"images.json", "[" + platformEntry("a", R"(["linux/amd64", "linux/arm64", "linux/arm/v7"])") + "]"}}), 1);
    EXPECT_EQ(added.state, RunState::Failed);
    const Build refused = store_.buildsOfJob(added.id).at(0);
    EXPECT_NE(refused.error.find("a:1.0 is already published from tree"), std::string::npos) << refused.error;
    EXPECT_NE(refused.error.find("builds a/ differently"), std::string::npos) << refused.error;
    EXPECT_EQ(backend_.built.size(), 2u);
}

TEST_F(JobRunnerTest, APlatformThatFailsFailsTheBuildAndPublishesNothingUnderTheVersion) {
    const std::string sha = git_.commit({{"armbroken/Dockerfile", "FROM scratch\n"},
                                         {"images.json", "[" + platformEntry("armbroken", "") + "]"}});
    platforms_ = parsePlatforms({"linux/amd64", "linux/arm64"});  // builder.platforms, for entries that name none
    const Job job = run(sha, 1);
    EXPECT_EQ(job.state, RunState::Failed);
    const Build build = store_.buildsOfJob(job.id).at(0);
    EXPECT_EQ(build.state, RunState::Failed);
    EXPECT_EQ(build.error.rfind("linux/arm64: docker build of localhost:5999/armbroken:1.0-linux-arm64: exec format error; "
                                "nothing is published under localhost:5999/armbroken:1.0",
                                0),
              0u)
        << build.error;
    EXPECT_EQ(build.digest, "");
    EXPECT_EQ(build.platforms, (std::vector<BuildPlatform>{{"linux/amd64", ""}, {"linux/arm64", ""}}))
        << "every platform named, none pushed";
    EXPECT_TRUE(backend_.pushes.empty());
    EXPECT_EQ(registry_.tags.count("armbroken:1.0"), 0u);
    EXPECT_EQ(registry_.tags.count("armbroken:latest"), 0u);
    EXPECT_TRUE(registry_.indexes.empty());

    // Failing on the engine's own platform, after arm64 was pushed: still nothing under the version.
    const std::string both = git_.commit({{"amdbroken/Dockerfile", "FROM scratch\n"},
                                          {"images.json", "[" + platformEntry("amdbroken", "") + "]"}});
    const Build second = store_.buildsOfJob(run(both, 1).id).at(0);
    EXPECT_EQ(second.error.rfind("linux/amd64: docker build of localhost:5999/amdbroken:1.0-linux-amd64: exit status 1; "
                                 "nothing is published under localhost:5999/amdbroken:1.0",
                                 0),
              0u)
        << second.error;
    EXPECT_EQ(second.platforms,
              (std::vector<BuildPlatform>{{"linux/amd64", ""}, {"linux/arm64", "sha256:" + std::string(64, 'c')}}))
        << "what was pushed is said";
    EXPECT_EQ(registry_.tags.count("amdbroken:1.0"), 0u);
    EXPECT_EQ(registry_.tags.count("amdbroken:1.0-linux-arm64"), 1u);
    EXPECT_TRUE(registry_.indexes.empty());
}

TEST_F(JobRunnerTest, APlatformWithoutAnEmulatorFailsAtOnceSayingHowToFixIt) {
    const std::string sha = git_.commit({{"a/Dockerfile", "FROM scratch\n"},
                                         {"images.json", "[" + platformEntry("a", R"(["linux/amd64", "linux/s390x"])") + "]"}});
    const Job job = run(sha, 1);
    EXPECT_EQ(job.state, RunState::Failed);
    const Build build = store_.buildsOfJob(job.id).at(0);
    EXPECT_NE(build.error.find("linux/s390x cannot be built on this host (the engine runs linux/amd64)"), std::string::npos)
        << build.error;
    EXPECT_NE(build.error.find("apt-get install qemu-user-static"), std::string::npos) << build.error;
    EXPECT_TRUE(backend_.built.empty()) << "not even the platform that could be built";
}

TEST_F(JobRunnerTest, AnImageOfAnotherPlatformThanAskedIsNeverPushed) {
    const std::string sha = git_.commit({{"a/Dockerfile", "FROM scratch\n"},
                                         {"images.json", "[" + platformEntry("a", R"(["linux/amd64", "linux/arm64"])") + "]"}});
    backend_.builtFor = "linux/amd64";  // as a FROM naming an amd64-only image makes every platform's
    const Job job = run(sha, 1);
    EXPECT_EQ(job.state, RunState::Failed);
    const Build build = store_.buildsOfJob(job.id).at(0);
    EXPECT_EQ(build.error.rfind("linux/arm64: localhost:5999/a:1.0-linux-arm64 was built for linux/amd64, not "
                                "linux/arm64: a FROM names an image of one platform only; nothing is published",
                                0),
              0u)
        << build.error;
    EXPECT_TRUE(backend_.pushes.empty());
    EXPECT_EQ(backend_.removed, (std::vector<std::string>{"localhost:5999/a:1.0-linux-arm64"}))
        << "the image of the wrong platform does not stay on the engine";

}

TEST_F(JobRunnerTest, ABuildForNoPlatformThatMakesAnotherPlatformsImageIsBuiltAgainForTheEngines) {
    // The engine's copy of the base is arm64's, as an arm64 build's --pull leaves it.
    backend_.baseWithoutPlatform = "linux/arm64";
    const Job job = run(commitServices({"a"}), 1);
    ASSERT_EQ(job.state, RunState::Succeeded) << job.error;
    EXPECT_EQ(backend_.built, (std::vector<std::string>{"localhost:5999/a:1.0", "localhost:5999/a:1.0"}));
    EXPECT_EQ(backend_.platformOf["localhost:5999/a:1.0"], "linux/amd64") << "built again for the engine's own";
    EXPECT_EQ(backend_.pushes, (std::vector<std::string>{"localhost:5999/a:1.0"}));
    // The foreign image is removed before the tag moves off it, then the pushed one.
    EXPECT_EQ(backend_.removed, (std::vector<std::string>{"localhost:5999/a:1.0", "localhost:5999/a:1.0"}));
    const Build build = store_.buildsOfJob(job.id).at(0);
    const std::string log = logOf(build.id);
    EXPECT_NE(log.find("localhost:5999/a:1.0 was built for linux/arm64, not the engine's own linux/amd64; building it "
                       "again with --platform linux/amd64 --pull"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("warning"), std::string::npos) << log;

    // A Dockerfile that asks for another platform's image gets it, as before
    // platforms existed, with a warning.
    backend_.builtFor = "linux/arm64";
    const Job foreign = run(commitServices({"b"}), 1);
    ASSERT_EQ(foreign.state, RunState::Succeeded) << foreign.error;
    const Build other = store_.buildsOfJob(foreign.id).at(0);
    const std::string otherLog = logOf(other.id);
    EXPECT_NE(otherLog.find("[slipway: warning: localhost:5999/b:1.0 is an image for linux/arm64, not linux/amd64, "
                            "as its Dockerfile makes it; pushed as it is"),
              std::string::npos)
        << otherLog;
    EXPECT_EQ(backend_.pushes.back(), "localhost:5999/b:1.0");

    // A foreign base only on the engine cannot be pulled for the engine's
    // platform: the image is built as it was and pushed with the warning.
    const Job local = run(commitServices({"localonly"}), 1);
    ASSERT_EQ(local.state, RunState::Succeeded) << local.error;
    const std::string localLog = logOf(store_.buildsOfJob(local.id).at(0).id);
    EXPECT_NE(localLog.find("building it again for linux/amd64 failed (docker build of localhost:5999/localonly:1.0: "
                            "pull access denied); building it as it was"),
              std::string::npos)
        << localLog;
    EXPECT_NE(localLog.find("[slipway: warning: localhost:5999/localonly:1.0 is an image for linux/arm64"),
              std::string::npos)
        << localLog;
    EXPECT_EQ(backend_.pushes.back(), "localhost:5999/localonly:1.0");
}

TEST_F(JobRunnerTest, OnePlatformIsBuiltForItWithoutAnIndex) {
    const std::string sha = git_.commit(
        {{"a/Dockerfile", "FROM scratch\n"}, {"images.json", "[" + platformEntry("a", R"(["linux/arm64"])") + "]"}});
    const Job job = run(sha, 1);
    ASSERT_EQ(job.state, RunState::Succeeded) << job.error;
    EXPECT_EQ(backend_.built, (std::vector<std::string>{"localhost:5999/a:1.0"}));
    EXPECT_EQ(backend_.platformOf["localhost:5999/a:1.0"], "linux/arm64");
    EXPECT_TRUE(registry_.indexes.empty());
    EXPECT_EQ(store_.buildsOfJob(job.id).at(0).platforms,
              (std::vector<BuildPlatform>{{"linux/arm64", "sha256:" + std::string(64, 'c')}}));
}

TEST_F(JobRunnerTest, BuilderPlatformsMustLeaveEveryPlatformATag) {
    const std::string version(120, 'v');
    const std::string sha = git_.commit(
        {{"a/Dockerfile", "FROM scratch\n"},
         {"images.json", R"([{"service_name": "a", "type": "Docker", "version": ")" + version + R"("}])"}});
    platforms_ = parsePlatforms({"linux/amd64", "linux/arm64"});
    const Job job = run(sha, 1);
    EXPECT_EQ(job.state, RunState::Failed);
    const Build build = store_.buildsOfJob(job.id).at(0);
    EXPECT_EQ(build.error, "a: with builder.platforms, version \"" + version +
                               "\" is too long for the tag of its linux/amd64 image, \"" + version +
                               "-linux-amd64\" (at most 128 characters); shorten the version, or give the entry "
                               "\"platforms\" of its own");
    EXPECT_TRUE(backend_.built.empty());
}

// The node froze past its lease while building, and another node took the
// job over: when the build ends here, nothing is pushed and nothing of this
// run is recorded over the other's.
TEST_F(JobRunnerTest, ARunWhoseLeaseWasTakenPushesNothingAndRecordsNothing) {
    const std::string sha = commitServices({"api"});
    Store other(dir_.path() + "/slipway.db", clock_, {"other", std::chrono::seconds(60)});
    std::optional<Job> taken;
    backend_.beforeBuild = [&] {
        SqliteConnection(dir_.path() + "/slipway.db").run("UPDATE jobs SET lease_until = '2000-01-01T00:00:00.000Z'", {});
        EXPECT_EQ(other.requeueExpiredLeases(3), 1);
        taken = other.claimJob();
    };
    RecordingEvents events;
    events_ = &events;
    const Job job = run(sha, 1);
    ASSERT_TRUE(taken);
    EXPECT_TRUE(backend_.pushes.empty()) << "pushed " << backend_.pushes.front();
    EXPECT_EQ(job.state, RunState::Running);
    EXPECT_EQ(job.node, "other");
    EXPECT_EQ(job.attempt, 2);
    const std::vector<Build> builds = store_.buildsOfJob(job.id);
    ASSERT_EQ(builds.size(), 1u);
    EXPECT_EQ(builds[0].state, RunState::Failed);
    EXPECT_NE(builds[0].error.find("stopped renewing its lease"), std::string::npos) << builds[0].error;
    EXPECT_EQ(events.of("job"), (std::vector<std::string>{"started", "running"}))
        << "the job's end here is announced, as the store has it: another node's";
}

}  // namespace
}  // namespace slipway
