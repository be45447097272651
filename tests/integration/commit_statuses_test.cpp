#include <Poco/JSON/Array.h>

#include "tests/integration/github_stand_in.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "ghp_commit-status-test-token";

// Commit statuses sent to a stand-in for GitHub that checks every request
// against GitHub's description. What a status says does not depend on the
// backend, so these run with the CLI one only.
class CommitStatuses : public PipelineTest {
protected:
    void SetUp() override {
        PipelineTest::SetUp();
        github_ = std::make_unique<GitHubStandIn>(IntegrationEnvironment::registry().certificateFile(),
                                                  IntegrationEnvironment::registry().keyFile());
    }

    void TearDown() override {
        for (const ReceivedStatus& status : github_->received()) {
            EXPECT_EQ(status.problems, "") << status.context << " " << status.state;
            EXPECT_EQ(status.authorization, std::string("Bearer ") + kToken);
        }
        PipelineTest::TearDown();
    }

    // slipwayd reporting on the test's repository with a token, its statuses
    // sent to the stand-in (trusted through the test CA) and linking to `public_url`.
    SlipwayProcess& startReporting(std::vector<TestRepo> moreRepos = {}) {
        DaemonOptions options = defaultOptions();
        options.repos[0].token = kToken;
        options.repos.insert(options.repos.end(), moreRepos.begin(), moreRepos.end());
        options.extraIni = "[github]\napi_url = " + github_->url() + "\nca_file = " +
                           IntegrationEnvironment::registry().caFile() + "\n[server]\npublic_url = https://ci.example.com\n";
        return startDaemon(options);
    }

    // The states `context` received, in order.
    std::vector<std::string> statesOf(const std::string& context) const {
        std::vector<std::string> states;
        for (const ReceivedStatus& status : github_->received()) {
            if (status.context == context) states.push_back(status.state);
        }
        return states;
    }

    // Whether every one of `contexts` has received a status other than
    // pending, and (when `accepted`) answered it with 201.
    static std::function<bool(const std::vector<ReceivedStatus>&)> ended(std::vector<std::string> contexts,
                                                                         bool accepted = true) {
        return [contexts, accepted](const std::vector<ReceivedStatus>& received) {
            for (const std::string& context : contexts) {
                bool done = false;
                for (const ReceivedStatus& status : received) {
                    done = done || (status.context == context && status.state != "pending" &&
                                    (!accepted || status.answered == 201));
                }
                if (!done) return false;
            }
            return true;
        };
    }

    // The build of `service` in `job`.
    static Poco::JSON::Object::Ptr buildOf(const Poco::JSON::Object::Ptr& job, const std::string& service) {
        Poco::JSON::Array::Ptr builds = job->getArray("builds");
        for (std::size_t i = 0; i < builds->size(); ++i) {
            if (builds->getObject(static_cast<unsigned>(i))->getValue<std::string>("service") == service) {
                return builds->getObject(static_cast<unsigned>(i));
            }
        }
        return nullptr;
    }

    // The commit_status GET /api/builds/{id} shows for `build`.
    Poco::JSON::Object::Ptr commitStatusOf(const Poco::JSON::Object::Ptr& build) const {
        const HttpAnswer answer = daemon_->get("/api/builds/" + std::to_string(build->getValue<std::int64_t>("id")));
        return answer.json()->getObject("commit_status");
    }

    std::unique_ptr<GitHubStandIn> github_;
};

TEST_P(CommitStatuses, AMergeReportsPendingThenTheOutcomeOfEachServiceAndARepositoryWithoutATokenNothing) {
    const std::string good = unique("cs-good"), bad = unique("cs-bad");
    const std::string sha = git_->commit(
        files({service(good), service(bad, "exit 3"), {{"images.json", imagesJson({{good, "1"}, {bad, "1"}})}}}));
    GitFixture quiet(dir_.path() + "/quiet");
    const std::string quietSha = quiet.commit(files({service(unique("cs-quiet")),
                                                     {{"images.json", imagesJson({{unique("cs-quiet"), "1"}})}}}));
    SlipwayProcess& daemon = startReporting({{"quiet", "acme/quiet", quiet.url()}});

    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "cs-merge"));
    const HttpAnswer quietAnswer = daemon.sendWebhook("pull_request", "cs-quiet",
                                                      pullRequestPayload("acme/quiet", "closed", true, quietSha));
    ASSERT_EQ(quietAnswer.status, 202) << quietAnswer.body;
    daemon.waitForJob(quietAnswer.json()->getArray("jobs")->getElement<std::int64_t>(0));

    const std::string goodContext = "slipway/" + good, badContext = "slipway/" + bad;
    ASSERT_TRUE(github_->waitFor(ended({goodContext, badContext}), 30s)) << daemon.output();
    // Pending first (queued, then building, unless the second came before the
    // first was sent), then the outcome, and nothing after it.
    for (const auto& [context, outcome] : {std::pair{goodContext, "success"}, std::pair{badContext, "failure"}}) {
        std::vector<std::string> states = statesOf(context);
        ASSERT_GE(states.size(), 2u) << context;
        EXPECT_EQ(states.back(), outcome) << context;
        states.pop_back();
        for (const std::string& state : states) EXPECT_EQ(state, "pending") << context;
    }
    for (const ReceivedStatus& status : github_->received()) {
        EXPECT_EQ(status.repository, kRepoName);
        EXPECT_EQ(status.sha, sha);
        EXPECT_NE(status.context, "slipway/" + unique("cs-quiet")) << "a repository without a token reported";
    }
    const auto byContext = [&](const std::string& context) {
        for (const ReceivedStatus& status : github_->received()) {
            if (status.context == context && status.state != "pending") return status;
        }
        return ReceivedStatus{};
    };
    const Poco::JSON::Object::Ptr goodBuild = buildOf(job, good);
    EXPECT_EQ(byContext(goodContext).description, "pushed " + goodBuild->getValue<std::string>("image"));
    EXPECT_EQ(byContext(goodContext).targetUrl,
              "https://ci.example.com/api/builds/" + std::to_string(goodBuild->getValue<std::int64_t>("id")) + "/log");
    EXPECT_NE(byContext(badContext).description.find("exit 3"), std::string::npos) << byContext(badContext).description;

    // The API shows where each build's status is.
    const Poco::JSON::Object::Ptr shown = commitStatusOf(goodBuild);
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown->getValue<std::string>("context"), goodContext);
    EXPECT_EQ(shown->getValue<std::string>("state"), "success");
    EXPECT_EQ(shown->getValue<std::string>("delivery"), "sent");
    const HttpAnswer quietJob = daemon.get("/api/jobs/" + std::to_string(
                                                              quietAnswer.json()->getArray("jobs")->getElement<std::int64_t>(0)));
    EXPECT_TRUE(commitStatusOf(quietJob.json()->getArray("builds")->getObject(0)).isNull());
    EXPECT_EQ(daemon.output().find(kToken), std::string::npos) << "the token reached the log";
}

TEST_P(CommitStatuses, StatusesHeldUpWhileGitHubIsDownArriveInOrderWhenItComesBack) {
    const std::string name = unique("cs-outage");
    const std::string sha = git_->commit(files({service(name), {{"images.json", imagesJson({{name, "1"}})}}}));
    github_->goDown();
    const auto down = std::chrono::steady_clock::now();
    SlipwayProcess& daemon = startReporting();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "cs-outage"));
    ASSERT_EQ(job->getValue<std::string>("state"), "succeeded");
    // A slow or absent GitHub holds up neither builds nor readiness.
    EXPECT_EQ(daemon.get("/readyz").status, 200);
    EXPECT_EQ(commitStatusOf(buildOf(job, name))->getValue<std::string>("delivery"), "due");

    std::this_thread::sleep_until(down + 30s);  // the outage the issue asks to survive
    const std::string during = daemon.get("/metrics").body;
    const std::string retried = "slipway_commit_status_requests_total{outcome=\"retried\"} ";
    const auto counted = during.find(retried);
    ASSERT_NE(counted, std::string::npos) << during;
    EXPECT_GE(std::stoi(during.substr(counted + retried.size())), 3) << "slipwayd gave up trying during the outage";
    github_->comeBack();
    ASSERT_TRUE(github_->waitFor(ended({"slipway/" + name}), 30s)) << daemon.output();
    // The transitions that came while GitHub was away were superseded by the newest.
    EXPECT_EQ(statesOf("slipway/" + name), (std::vector<std::string>{"success"}));
    EXPECT_EQ(commitStatusOf(buildOf(job, name))->getValue<std::string>("delivery"), "sent");
    const HttpAnswer metrics = daemon.get("/metrics");
    EXPECT_NE(metrics.body.find("slipway_commit_status_requests_total{outcome=\"sent\"} 1\n"), std::string::npos)
        << metrics.body;
}

TEST_P(CommitStatuses, AStatusNotYetSentWhenSlipwaydIsKilledIsSentAfterTheRestart) {
    const std::string name = unique("cs-kill");
    const std::string sha = git_->commit(files({service(name), {{"images.json", imagesJson({{name, "1"}})}}}));
    github_->answerWith([](const ReceivedStatus&) { return StandInAnswer{503, {}, R"({"message": "Unavailable"})"}; });
    SlipwayProcess& daemon = startReporting();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "cs-kill"));
    ASSERT_EQ(job->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(commitStatusOf(buildOf(job, name))->getValue<std::string>("delivery"), "due");
    daemon.kill();

    github_->answerWith({});
    daemon.restart();
    ASSERT_TRUE(github_->waitFor(ended({"slipway/" + name}), 30s)) << daemon.output();
    EXPECT_EQ(statesOf("slipway/" + name).back(), "success");
}

TEST_P(CommitStatuses, ARateLimitIsWaitedOutUntilItsResetTime) {
    const std::string name = unique("cs-limit");
    const std::string sha = git_->commit(files({service(name), {{"images.json", imagesJson({{name, "1"}})}}}));
    // The first request is refused until 5 s after it came (X-RateLimit-Reset
    // is in whole seconds since the epoch).
    std::chrono::system_clock::time_point reset;
    github_->answerWith([&reset, first = true](const ReceivedStatus& request) mutable {
        if (!first) return StandInAnswer{};
        first = false;
        reset = std::chrono::time_point_cast<std::chrono::seconds>(request.at + 5s);
        return StandInAnswer{403,
                             {{"X-RateLimit-Limit", "5000"},
                              {"X-RateLimit-Remaining", "0"},
                              {"X-RateLimit-Reset", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                                       reset.time_since_epoch())
                                                                       .count())}},
                             R"({"message": "API rate limit exceeded for user ID 1."})"};
    });
    SlipwayProcess& daemon = startReporting();
    daemon.waitForJob(deliverMerge(sha, "cs-limit"));
    ASSERT_TRUE(github_->waitFor(ended({"slipway/" + name}), 30s)) << daemon.output();
    const std::vector<ReceivedStatus> received = github_->received();
    ASSERT_GE(received.size(), 2u);
    EXPECT_EQ(received[0].answered, 403);
    // Nothing between the refusal and the reset (slipwayd counts in whole
    // seconds too, so its retry may come up to a second before it), and the
    // retry soon after.
    EXPECT_GE(received[1].at, reset - 1s) << "the retry came before the reset time";
    EXPECT_LE(received[1].at, reset + 3s) << "the retry came long after the reset time";
}

TEST_P(CommitStatuses, AStatusGitHubRefusesIsAbandonedAndShown) {
    const std::string name = unique("cs-refused");
    const std::string sha = git_->commit(files({service(name), {{"images.json", imagesJson({{name, "1"}})}}}));
    github_->answerWith([](const ReceivedStatus&) {
        return StandInAnswer{422, {}, R"({"message": "Validation Failed", "errors": [{"resource": "Status"}]})"};
    });
    SlipwayProcess& daemon = startReporting();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "cs-refused"));
    ASSERT_TRUE(github_->waitFor(ended({"slipway/" + name}, false), 30s)) << daemon.output();
    Poco::JSON::Object::Ptr shown;
    for (int i = 0; i < 100; ++i) {
        shown = commitStatusOf(buildOf(job, name));
        if (shown->getValue<std::string>("delivery") != "due") break;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(shown->getValue<std::string>("delivery"), "abandoned");
    EXPECT_EQ(shown->getValue<std::string>("detail"), "GitHub answered 422: Validation Failed");
    EXPECT_EQ(shown->getValue<std::int64_t>("attempts"), 1);
    EXPECT_NE(daemon.output().find("abandoned: GitHub answered 422"), std::string::npos) << daemon.output();
    EXPECT_NE(daemon.get("/metrics").body.find("slipway_commit_status_requests_total{outcome=\"abandoned\"}"),
              std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Cli, CommitStatuses, ::testing::Values("cli"));

}  // namespace
}  // namespace slipway::testing
