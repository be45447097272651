#include "daemon/reporters/metrics.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(Metrics, CountsWebhooksByEventAndOutcome) {
    Metrics m;
    m.webhookReceived("push", DeliveryOutcome::Queued);
    m.webhookReceived("push", DeliveryOutcome::Queued);
    m.webhookReceived("ping", DeliveryOutcome::Ping);
    const std::string text = m.render(0, 0);
    EXPECT_TRUE(has(text, R"(slipway_webhooks_total{event="push",outcome="queued"} 2)")) << text;
    EXPECT_TRUE(has(text, R"(slipway_webhooks_total{event="ping",outcome="ping"} 1)")) << text;
}

TEST(Metrics, FoldsUnknownEventsIntoOtherSoTheLabelSetStaysSmall) {
    Metrics m;
    m.webhookReceived("issues", DeliveryOutcome::Ignored);
    m.webhookReceived("x\"}\nevil 1", DeliveryOutcome::Ignored);
    const std::string text = m.render(0, 0);
    EXPECT_TRUE(has(text, R"(slipway_webhooks_total{event="other",outcome="ignored"} 2)")) << text;
    EXPECT_EQ(text.find("evil"), std::string::npos);
}

TEST(Metrics, RendersCumulativeHistogramBuckets) {
    Metrics m;
    const Build build;
    m.stepTimed(build, BuildStep::Build, 0.5);
    m.stepTimed(build, BuildStep::Build, 7);
    m.stepTimed(build, BuildStep::Build, 7200);
    const std::string text = m.render(0, 0);
    EXPECT_TRUE(has(text, R"(slipway_build_duration_seconds_bucket{le="1"} 1)")) << text;
    EXPECT_TRUE(has(text, R"(slipway_build_duration_seconds_bucket{le="10"} 2)")) << text;
    EXPECT_TRUE(has(text, R"(slipway_build_duration_seconds_bucket{le="3600"} 2)")) << text;
    EXPECT_TRUE(has(text, R"(slipway_build_duration_seconds_bucket{le="+Inf"} 3)")) << text;
    EXPECT_TRUE(has(text, "slipway_build_duration_seconds_sum 7207.5")) << text;
    EXPECT_TRUE(has(text, "slipway_build_duration_seconds_count 3")) << text;
}

TEST(Metrics, ReportsBuildsAndGauges) {
    Metrics m;
    Build build;
    build.state = RunState::Succeeded;
    m.buildFinished(build);
    const std::string text = m.render(4, 2);
    EXPECT_TRUE(has(text, R"(slipway_builds_total{state="succeeded"} 1)"));
    EXPECT_TRUE(has(text, R"(slipway_builds_total{state="failed"} 0)"));
    EXPECT_TRUE(has(text, "slipway_queue_depth 4"));
    EXPECT_TRUE(has(text, "slipway_builds_running 2"));
}

TEST(Metrics, ShowsTheStateFolderSizeOnceMeasured) {
    Metrics m;
    EXPECT_EQ(m.render(0, 0).find("slipway_state_bytes"), std::string::npos);
    m.setDiskUsage({{"database", 4096}, {"logs", 10}});
    const std::string text = m.render(0, 0);
    EXPECT_NE(text.find("slipway_state_bytes{part=\"database\"} 4096\n"), std::string::npos) << text;
    EXPECT_NE(text.find("slipway_state_bytes{part=\"logs\"} 10\n"), std::string::npos) << text;
}

TEST(Metrics, CountsCommitStatusRequestsByWhatCameOfThem) {
    Metrics m;
    m.statusAttempted(StatusAttempt::Retried);
    m.statusAttempted(StatusAttempt::Retried);
    m.statusAttempted(StatusAttempt::Sent);
    const std::string text = m.render(0, 0);
    EXPECT_NE(text.find("slipway_commit_status_requests_total{outcome=\"sent\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("slipway_commit_status_requests_total{outcome=\"retried\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("slipway_commit_status_requests_total{outcome=\"abandoned\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace slipway
