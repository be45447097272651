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
#include "daemon/reporters/metrics.h"
#include "daemon/source/git_handles.h"
#include "storage/clock.h"
#include "tests/integration/git_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// Builds take a while and count how many run at once; an image whose name
// contains "broken" fails to build, one whose name contains "flaky" finds the
// engine unreachable the first time. Pushes and removes succeed at once.
class SlowBackend : public Backend {
public:
    void build(const BuildRequest& request, std::ostream& log) override {
        if (holdUntilReleased) {
            ++running_;
            while (!released) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            --running_;
            throw BackendError("docker build of " + request.image + ": killed");  // as by abort()
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
        if (request.image.find("broken") != std::string::npos) {
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
        return "sha256:" + std::string(64, 'a');
    }
    void remove(const std::string&, std::ostream&) override {}
    void ping() override {}
    void abort() override {}

    int most() const { return most_; }
    int running() const { return running_; }

    // Builds and pushes that fail as if an image they need had been removed meanwhile.
    std::atomic<int> vanishingBuilds{0};
    std::atomic<int> vanishingPushes{0};
    std::atomic<int> builds{0};
    std::atomic<int> flakyFailures{1};
    // Builds wait for `released` and then fail, as a build killed by a stop does.
    std::atomic<bool> holdUntilReleased{false};
    std::atomic<bool> released{false};

private:
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
        JobRunner runner(settings, store_, checkout_, backend_, *events_);
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

    GitLibrary library_;
    testing::TempDir dir_;
    testing::GitFixture git_{dir_.path() + "/repo"};
    SystemClock clock_;
    Store store_{dir_.path() + "/slipway.db", clock_};
    Checkout checkout_{dir_.path() + "/repos", dir_.path() + "/work", std::chrono::seconds(30)};
    SlowBackend backend_;
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
}

TEST_F(JobRunnerTest, AStopLeavesTheJobRunningAndStartsNoFurtherBuild) {
    backend_.holdUntilReleased = true;
    const Job job = run(commitServices({"a", "b", "c", "d"}), 2, [this](JobRunner& runner) {
        while (backend_.running() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        runner.stop();
        backend_.released = true;
    });
    // Left running for the next start to queue again; nothing recorded as failed.
    EXPECT_EQ(job.state, RunState::Running);
    std::map<RunState, int> states;
    for (const Build& b : store_.buildsOfJob(job.id)) ++states[b.state];
    EXPECT_EQ(states, (std::map<RunState, int>{{RunState::Running, 2}, {RunState::Queued, 2}}));
}

}  // namespace
}  // namespace slipway
