#include "daemon/reporters/commit_status_sender.h"

#include <deque>
#include <functional>

#include <gtest/gtest.h>

#include "tests/support/eventually.h"
#include "tests/support/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using testing::kTestSha;

// Answers each request with the next scripted answer (201 once they run out)
// and remembers what it was asked.
class ScriptedGitHub : public CommitStatusApi {
public:
    StatusAnswer createStatus(const StatusRequest& request) override {
        requests.push_back(request);
        if (script.empty()) return StatusAnswer{201, "", {}, {}, {}};
        std::function<StatusAnswer()> next = script.front();
        script.pop_front();
        return next();
    }
    std::vector<StatusRequest> requests;
    std::deque<std::function<StatusAnswer()>> script;
};

class CountedAttempts : public StatusAttempts {
public:
    void statusAttempted(StatusAttempt attempt) override { ++counts[attempt]; }
    std::map<StatusAttempt, int> counts;
};

class CommitStatusSenderTest : public ::testing::Test {
protected:
    CommitStatusSenderTest() {
        RepoSettings reporting;
        reporting.alias = "exam";
        reporting.name = "acme/exam";
        reporting.token = "ghp_secret";
        reporting.commitStatuses = true;
        settings_.repos = {reporting};
        settings_.publicUrl = "https://ci.example.com";
        settings_.backoff = {0, 1000ms, 30000ms};
        jobId_ = testing::runningTestJob(store_, "d1");
    }

    std::int64_t addBuild(const std::string& service) {
        Build b = testing::testBuild(jobId_, service);
        b.version = "1.0.0";
        b.image = "registry.example.com/" + service + ":1.0.0";
        b.statusContext = "slipway/" + service;
        return store_.addBuild(b);
    }

    // "context state description" of each request, in order.
    std::vector<std::string> sent() const {
        std::vector<std::string> lines;
        for (const StatusRequest& r : github_.requests) {
            lines.push_back(r.context + " " + toString(r.state) + " " + r.description);
        }
        return lines;
    }

    testing::TempDir dir_;
    testing::TestClock clock_;
    Store store_{dir_.path() + "/slipway.db", clock_};
    ScriptedGitHub github_;
    CountedAttempts attempts_;
    StatusSenderSettings settings_;
    std::int64_t jobId_ = 0;
};

TEST_F(CommitStatusSenderTest, SendsTheNewestStatusOfEachContextWithWhatHappened) {
    const auto api = addBuild("api");
    const auto web = addBuild("web");
    CommitStatusSender sender(settings_, store_, github_, attempts_);
    sender.sendDue(Clock::now());
    store_.startBuild(api);
    store_.finishBuild(api, RunState::Succeeded, "sha256:abc", "");
    store_.startBuild(web);
    store_.finishBuild(web, RunState::Failed, "", "Dockerfile step 2/3 failed: exit code 1\nmore output");
    sender.sendDue(Clock::now());

    EXPECT_EQ(sent(), (std::vector<std::string>{
                          "slipway/api pending waiting to build registry.example.com/api:1.0.0",
                          "slipway/web pending waiting to build registry.example.com/web:1.0.0",
                          "slipway/api success pushed registry.example.com/api:1.0.0",
                          "slipway/web failure Dockerfile step 2/3 failed: exit code 1",
                      }));
    const StatusRequest& last = github_.requests.back();
    EXPECT_EQ(last.repository, "acme/exam");
    EXPECT_EQ(last.sha, kTestSha);
    EXPECT_EQ(last.token, "ghp_secret");
    EXPECT_EQ(last.targetUrl, "https://ci.example.com/api/builds/" + std::to_string(web) + "/log");
    EXPECT_EQ(store_.commitStatusOf(web)->delivery, StatusDelivery::Sent);
    EXPECT_EQ(attempts_.counts[StatusAttempt::Sent], 4);
}

TEST_F(CommitStatusSenderTest, BacksEverythingOffWhileGitHubIsUnreachableAndKeepsTheOrderOfAContext) {
    const auto api = addBuild("api");
    github_.script = {[]() -> StatusAnswer { throw GitHubUnreachable("POST https://api.github.com/...: refused"); },
                      [] { return StatusAnswer{502, "", {}, {}, {}}; }};
    CommitStatusSender sender(settings_, store_, github_, attempts_);
    const auto start = Clock::now();
    auto next = sender.sendDue(start);
    EXPECT_GE(next - start, 500ms);  // the first delay, with jitter
    EXPECT_LE(next - start, 1500ms);
    EXPECT_EQ(store_.commitStatusOf(api)->delivery, StatusDelivery::Due);
    EXPECT_EQ(store_.commitStatusOf(api)->detail, "POST https://api.github.com/...: refused");

    store_.startBuild(api);
    addBuild("web");
    EXPECT_EQ(sender.sendDue(start + 100ms), next);  // still waiting: nothing sent
    EXPECT_EQ(github_.requests.size(), 1u);

    const auto later = sender.sendDue(next);  // 502: waits twice as long
    EXPECT_GE(later - next, 1000ms);
    EXPECT_EQ(github_.requests.size(), 2u);
    sender.sendDue(later);
    EXPECT_EQ(sent(), (std::vector<std::string>{
                          "slipway/api pending waiting to build registry.example.com/api:1.0.0",
                          "slipway/api pending building registry.example.com/api:1.0.0",
                          "slipway/api pending building registry.example.com/api:1.0.0",
                          "slipway/web pending waiting to build registry.example.com/web:1.0.0",
                      }));
    EXPECT_EQ(attempts_.counts[StatusAttempt::Retried], 2);
    EXPECT_EQ(attempts_.counts[StatusAttempt::Sent], 2);
}

TEST_F(CommitStatusSenderTest, ARateLimitHoldsTheRepositoryBackUntilItResets) {
    const auto api = addBuild("api");
    const std::int64_t reset =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
        120;
    github_.script = {[reset] { return StatusAnswer{403, "API rate limit exceeded", {}, 0, reset}; }};
    CommitStatusSender sender(settings_, store_, github_, attempts_);
    const auto start = Clock::now();
    const auto next = sender.sendDue(start);
    EXPECT_GE(next - start, 118s);
    EXPECT_LE(next - start, 121s);
    EXPECT_EQ(store_.commitStatusOf(api)->delivery, StatusDelivery::Due);
    sender.sendDue(start + 60s);
    EXPECT_EQ(github_.requests.size(), 1u);
    sender.sendDue(next);
    EXPECT_EQ(github_.requests.size(), 2u);
    EXPECT_EQ(store_.commitStatusOf(api)->delivery, StatusDelivery::Sent);
}

TEST_F(CommitStatusSenderTest, ARateLimitedRepositoryNeitherSpinsThePassNorHoldsUpAnother) {
    RepoSettings other = settings_.repos[0];
    other.alias = "other";
    other.name = "acme/other";
    settings_.repos.push_back(other);
    settings_.batch = 2;
    for (const std::string service : {"a", "b", "c"}) addBuild(service);
    std::int64_t pending = 0;
    const std::int64_t otherJob = store_.queueJob({"other", kTestSha, "", 1}, pending);
    store_.claimJob();
    Build elsewhere;
    elsewhere.jobId = otherJob;
    elsewhere.repo = "other";
    elsewhere.sha = kTestSha;
    elsewhere.service = "d";
    elsewhere.version = "1";
    elsewhere.image = "registry.example.com/d:1";
    elsewhere.statusContext = "slipway/d";
    const auto otherBuild = store_.addBuild(elsewhere);
    github_.script = {[] { return StatusAnswer{429, "secondary rate limit", 120, {}, {}}; }};
    CommitStatusSender sender(settings_, store_, github_, attempts_);
    const auto start = Clock::now();
    // The first request is limited; the rest of exam's statuses wait for the reset.
    EXPECT_EQ(sender.sendDue(start), start);  // a full batch: there may be more
    const auto next = sender.sendDue(start);
    EXPECT_EQ(next, start + 120s) << "the pass comes back before the limit resets";
    EXPECT_EQ(github_.requests.size(), 2u);
    EXPECT_EQ(github_.requests.back().repository, "acme/other");
    EXPECT_EQ(store_.commitStatusOf(otherBuild)->delivery, StatusDelivery::Sent);
}

TEST_F(CommitStatusSenderTest, AbandonsWhatGitHubRefusesForGoodAndGoesOn) {
    const auto api = addBuild("api");
    const auto web = addBuild("web");
    github_.script = {[] { return StatusAnswer{422, "Validation Failed", {}, {}, {}}; }};
    CommitStatusSender sender(settings_, store_, github_, attempts_);
    sender.sendDue(Clock::now());
    const CommitStatus refused = *store_.commitStatusOf(api);
    EXPECT_EQ(refused.delivery, StatusDelivery::Abandoned);
    EXPECT_EQ(refused.detail, "GitHub answered 422: Validation Failed");
    EXPECT_EQ(store_.commitStatusOf(web)->delivery, StatusDelivery::Sent);
    EXPECT_EQ(attempts_.counts[StatusAttempt::Abandoned], 1);
}

TEST_F(CommitStatusSenderTest, ARepositoryNoLongerReportingHasItsStatusesAbandonedUnsent) {
    const auto api = addBuild("api");
    settings_.repos[0].commitStatuses = false;
    CommitStatusSender sender(settings_, store_, github_, attempts_);
    sender.sendDue(Clock::now());
    EXPECT_TRUE(github_.requests.empty());
    EXPECT_EQ(store_.commitStatusOf(api)->delivery, StatusDelivery::Abandoned);
}

TEST_F(CommitStatusSenderTest, TheThreadSendsWhatABuildEventWakesItFor) {
    CommitStatusSender sender(settings_, store_, github_, attempts_);
    sender.start();
    const auto api = addBuild("api");
    sender.buildQueued(*store_.build(api));
    EXPECT_TRUE(testing::eventually([&] { return store_.commitStatusOf(api)->delivery == StatusDelivery::Sent; }));
    sender.stop();
}

TEST(JudgeStatusAnswer, ReadsGitHubsAnswersAsItsDocumentationSays) {
    using Action = StatusVerdict::Action;
    const std::int64_t now = 1795000000;
    EXPECT_EQ(judgeStatusAnswer({201, "", {}, {}, {}}, now).action, Action::Sent);
    EXPECT_EQ(judgeStatusAnswer({500, "", {}, {}, {}}, now).action, Action::RetryLater);
    EXPECT_EQ(judgeStatusAnswer({503, "", {}, {}, {}}, now).action, Action::RetryLater);
    // Secondary rate limits: Retry-After first.
    const StatusVerdict secondary = judgeStatusAnswer({403, "secondary rate limit", 30, 100, now + 900}, now);
    EXPECT_EQ(secondary.action, Action::RateLimited);
    EXPECT_EQ(secondary.wait, std::chrono::seconds(30));
    const StatusVerdict primary = judgeStatusAnswer({403, "API rate limit exceeded", {}, 0, now + 90}, now);
    EXPECT_EQ(primary.action, Action::RateLimited);
    EXPECT_EQ(primary.wait, std::chrono::seconds(90));
    // A 429 with neither header waits a minute.
    EXPECT_EQ(judgeStatusAnswer({429, "", {}, {}, {}}, now).wait, std::chrono::seconds(60));
    // A 403 with requests left is a token without the permission.
    EXPECT_EQ(judgeStatusAnswer({403, "Resource not accessible", {}, 4999, now + 90}, now).action, Action::Abandon);
    for (int status : {401, 404, 422, 400}) {
        EXPECT_EQ(judgeStatusAnswer({status, "", {}, {}, {}}, now).action, Action::Abandon) << status;
    }
}

TEST(DescribeStatus, SaysWhatHappenedInAtMost140Characters) {
    Build build;
    build.image = "registry.example.com/api:1.4.2";
    build.state = RunState::Succeeded;
    EXPECT_EQ(describeStatus(CommitState::Success, build), "pushed registry.example.com/api:1.4.2");
    build.reused = true;
    EXPECT_EQ(describeStatus(CommitState::Success, build),
              "skipped: registry.example.com/api:1.4.2 already published from this content");
    build.error = std::string(200, 'x');
    const std::string cut = describeStatus(CommitState::Failure, build);
    EXPECT_EQ(cut, std::string(139, 'x') + "\xE2\x80\xA6");
    // Counted in characters, and never cut inside one.
    build.error = std::string(137, 'x') + "\xC3\xA9\xC3\xA9\xC3\xA9";  // 140 characters, 143 bytes
    EXPECT_EQ(describeStatus(CommitState::Failure, build), build.error);
    std::string accents;
    for (int i = 0; i < 150; ++i) accents += "\xC3\xA9";
    build.error = accents;
    EXPECT_EQ(describeStatus(CommitState::Error, build), accents.substr(0, 139 * 2) + "\xE2\x80\xA6");
}

}  // namespace
}  // namespace slipway
