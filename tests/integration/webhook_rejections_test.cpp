#include <Poco/JSON/Array.h>

#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using WebhookRejections = PipelineTest;

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

TEST_P(WebhookRejections, AClosedUnmergedPullRequestStartsNothing) {
    SlipwayProcess& daemon = startDaemon();
    const HttpAnswer answer =
        daemon.sendWebhook("pull_request", "unmerged", pullRequestPayload(kRepoName, "closed", false, ""));
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(answer.json()->getValue<std::string>("outcome"), "ignored");

    Poco::JSON::Array::Ptr deliveries = daemon.get("/api/deliveries").json()->getArray("deliveries");
    ASSERT_EQ(deliveries->size(), 1u);
    EXPECT_EQ(deliveries->getObject(0)->getValue<std::string>("outcome"), "ignored");
    EXPECT_EQ(deliveries->getObject(0)->getArray("jobs")->size(), 0u);
    EXPECT_EQ(daemon.get("/api/builds").json()->getArray("builds")->size(), 0u);
}

TEST_P(WebhookRejections, ABadSignatureGets401AndRecordsNothing) {
    SlipwayProcess& daemon = startDaemon();
    const std::string body = pullRequestPayload(kRepoName, "closed", true, kSha);
    const HttpAnswer wrong = daemon.sendWebhook("pull_request", "forged", body, "/hooks/github",
                                                "sha256=" + std::string(64, '0'));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.json()->getValue<std::string>("error"), "bad signature");
    EXPECT_EQ(wrong.body.find(SlipwayProcess::kSecret), std::string::npos);

    const HttpAnswer unsigned_ = httpRequest("POST", daemon.url("/hooks/github"),
                                             {{"X-GitHub-Event", "pull_request"}, {"X-GitHub-Delivery", "unsigned"},
                                              {"Content-Type", "application/json"}},
                                             body);
    EXPECT_EQ(unsigned_.status, 401);

    EXPECT_EQ(daemon.get("/api/deliveries").json()->getArray("deliveries")->size(), 0u);
    EXPECT_EQ(daemon.get("/api/builds").json()->getArray("builds")->size(), 0u);
    EXPECT_EQ(daemon.output().find(SlipwayProcess::kSecret), std::string::npos);
}

TEST_P(WebhookRejections, ARepeatedDeliveryIsAnsweredButQueuesNothing) {
    const std::string sha = git_->commit({{"README", "no images here\n"}});
    SlipwayProcess& daemon = startDaemon();
    const std::int64_t job = deliverMerge(sha, "once");
    const HttpAnswer again = daemon.sendWebhook("pull_request", "once", pullRequestPayload(kRepoName, "closed", true, sha));
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.json()->getValue<std::string>("outcome"), "duplicate");
    daemon.waitForJob(job);
    EXPECT_EQ(daemon.get("/api/deliveries").json()->getArray("deliveries")->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhookRejections, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
