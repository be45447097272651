#include "daemon/github/delivery_plan.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

std::vector<RepoSettings> repos(bool onPush = false) {
    RepoSettings exam;
    exam.alias = "exam";
    exam.name = "Acme/Exam";
    exam.url = "file:///srv/exam.git";
    exam.onPullRequest = true;
    exam.onPush = onPush;
    exam.branches = {"main", "release"};
    return {exam};
}

WebhookEvent pr(const std::string& action, bool merged, const std::string& base = "main") {
    WebhookEvent e;
    e.event = "pull_request";
    e.action = action;
    e.merged = merged;
    e.branch = base;
    e.repo = "acme/exam";
    e.sha = merged ? kSha : "";
    return e;
}

TEST(DeliveryPlan, QueuesTheMergeCommitOfAMergedPullRequest) {
    const DeliveryPlan plan = planDelivery(pr("closed", true), repos());
    EXPECT_EQ(plan.outcome, DeliveryOutcome::Queued);
    EXPECT_EQ(plan.repoAlias, "exam");
    ASSERT_EQ(plan.jobs.size(), 1u);
    EXPECT_EQ(plan.jobs[0].repo, "exam");
    EXPECT_EQ(plan.jobs[0].sha, kSha);
}

TEST(DeliveryPlan, IgnoresUnmergedAndOpenedPullRequests) {
    EXPECT_TRUE(planDelivery(pr("closed", false), repos()).jobs.empty());
    EXPECT_EQ(planDelivery(pr("closed", false), repos()).outcome, DeliveryOutcome::Ignored);
    EXPECT_TRUE(planDelivery(pr("opened", false), repos()).jobs.empty());
}

TEST(DeliveryPlan, IgnoresBaseBranchesNotWatched) {
    const DeliveryPlan plan = planDelivery(pr("closed", true, "feature"), repos());
    EXPECT_TRUE(plan.jobs.empty());
    EXPECT_NE(plan.detail.find("feature"), std::string::npos);
}

TEST(DeliveryPlan, ReportsUnconfiguredRepositories) {
    WebhookEvent e = pr("closed", true);
    e.repo = "someone/else";
    const DeliveryPlan plan = planDelivery(e, repos());
    EXPECT_TRUE(plan.unknownRepo);
    EXPECT_TRUE(plan.jobs.empty());
}

TEST(DeliveryPlan, AnswersPingsEvenWithoutRepository) {
    WebhookEvent e;
    e.event = "ping";
    const DeliveryPlan plan = planDelivery(e, repos());
    EXPECT_EQ(plan.outcome, DeliveryOutcome::Ping);
    EXPECT_FALSE(plan.unknownRepo);
}

TEST(DeliveryPlan, BuildsPushesOnlyWhenConfigured) {
    WebhookEvent push;
    push.event = "push";
    push.repo = "acme/exam";
    push.branch = "release";
    push.sha = kSha;
    EXPECT_TRUE(planDelivery(push, repos(false)).jobs.empty());
    EXPECT_EQ(planDelivery(push, repos(true)).jobs.size(), 1u);
    push.deleted = true;
    EXPECT_TRUE(planDelivery(push, repos(true)).jobs.empty());
}

TEST(DeliveryPlan, IgnoresAnEventThatNamesNoRepository) {
    WebhookEvent e;
    e.event = "installation";
    const DeliveryPlan plan = planDelivery(e, repos());
    EXPECT_EQ(plan.outcome, DeliveryOutcome::Ignored);
    EXPECT_EQ(plan.detail, "event installation names no repository");
    EXPECT_FALSE(plan.unknownRepo);
}

TEST(DeliveryPlan, IgnoresOtherEvents) {
    WebhookEvent e;
    e.event = "issues";
    e.repo = "acme/exam";
    const DeliveryPlan plan = planDelivery(e, repos());
    EXPECT_EQ(plan.outcome, DeliveryOutcome::Ignored);
    EXPECT_TRUE(plan.jobs.empty());
}

}  // namespace
}  // namespace slipway
