#include "daemon/github/delivery_intake.h"

#include <mutex>
#include <optional>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <gtest/gtest.h>

#include "daemon/github/webhook_verifier.h"
#include "storage/clock.h"
#include "tests/support/awaited.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

const std::string kSecret = "It's a Secret to Everybody";
const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

std::string mergedPullRequest(const std::string& repo) {
    return R"({"action": "closed", "number": 7, "pull_request": {"merged": true, "merge_commit_sha": ")" + kSha +
           R"(", "base": {"ref": "main"}}, "repository": {"full_name": ")" + repo + R"("}})";
}

// The intake against a real store in a temporary folder: no socket anywhere.
class DeliveryIntakeTest : public ::testing::Test {
protected:
    DeliveryIntakeTest() {
        RepoSettings exam;
        exam.alias = "exam";
        exam.name = "acme/exam";
        exam.url = "file:///srv/exam.git";
        exam.branches = {"main"};
        repos_ = {exam};
    }

    WebhookRequest signedRequest(const std::string& event, const std::string& delivery, const std::string& body) {
        WebhookRequest request;
        request.event = event;
        request.deliveryId = delivery;
        request.contentType = "application/json";
        request.client = "127.0.0.1";
        request.body = body;
        request.signature = signatureFor(kSecret, body);
        return request;
    }

    // The intake's answer to `request`, once it has one.
    WebhookAnswer accept(WebhookRequest request) {
        const std::string what = "the answer to delivery " + request.deliveryId;
        testing::Awaited<WebhookAnswer> answer;
        intake_.accept(std::move(request), answer.setter());
        return answer.take(what);
    }

    std::string text(const Poco::JSON::Object& body) {
        std::ostringstream out;
        body.stringify(out);
        return out.str();
    }

    testing::TempDir dir_;
    SystemClock clock_;
    Store store_{dir_.path() + "/slipway.db", clock_};
    std::vector<RepoSettings> repos_;
    DeliveryIntake intake_{kSecret, repos_, store_};
};

TEST_F(DeliveryIntakeTest, QueuesAMergedPullRequestAndAnswers202WithItsJob) {
    const WebhookAnswer answer = accept(signedRequest("pull_request", "d-1", mergedPullRequest("acme/exam")));
    EXPECT_EQ(answer.status, HTTPResponse::HTTP_ACCEPTED) << text(answer.body);
    EXPECT_EQ(answer.outcome, DeliveryOutcome::Queued);
    EXPECT_TRUE(answer.jobsQueued);
    EXPECT_EQ(answer.body.getValue<std::string>("outcome"), "queued");
    ASSERT_EQ(answer.body.getArray("jobs")->size(), 1u);
    // Answered only once recorded: the job is in the store.
    EXPECT_EQ(store_.countJobs(RunState::Queued), 1);
}

TEST_F(DeliveryIntakeTest, AnswersARepeatedDeliveryIdAsADuplicateWithoutQueueingAgain) {
    const std::string body = mergedPullRequest("acme/exam");
    ASSERT_EQ(accept(signedRequest("pull_request", "d-2", body)).status, HTTPResponse::HTTP_ACCEPTED);
    const WebhookAnswer again = accept(signedRequest("pull_request", "d-2", body));
    EXPECT_EQ(again.status, HTTPResponse::HTTP_OK);
    EXPECT_EQ(again.outcome, DeliveryOutcome::Duplicate);
    EXPECT_FALSE(again.jobsQueued);
    EXPECT_EQ(store_.countJobs(RunState::Queued), 1);
}

TEST_F(DeliveryIntakeTest, RefusesAMissingOrWrongSignatureBeforeReadingAnything) {
    WebhookRequest request = signedRequest("pull_request", "d-3", mergedPullRequest("acme/exam"));
    request.signature.clear();
    WebhookAnswer answer = accept(request);
    EXPECT_EQ(answer.status, HTTPResponse::HTTP_UNAUTHORIZED);
    EXPECT_EQ(answer.body.getValue<std::string>("error"), "missing signature");
    EXPECT_FALSE(answer.outcome);

    request.signature = signatureFor("another secret", request.body);
    answer = accept(request);
    EXPECT_EQ(answer.status, HTTPResponse::HTTP_UNAUTHORIZED);
    EXPECT_EQ(answer.body.getValue<std::string>("error"), "bad signature");
    EXPECT_EQ(store_.recentDeliveries(10).size(), 0u);
}

TEST_F(DeliveryIntakeTest, ARefusalIsAnsweredBeforeAcceptReturns) {
    WebhookRequest request = signedRequest("pull_request", "d-8", mergedPullRequest("acme/exam"));
    request.signature = signatureFor("another secret", request.body);
    std::optional<HTTPResponse::HTTPStatus> status;
    intake_.accept(request, [&](WebhookAnswer answer) { status = answer.status; });
    EXPECT_EQ(status, HTTPResponse::HTTP_UNAUTHORIZED);
}

// What is logged to it, for a test to read.
class Lines : public Poco::Channel {
public:
    void log(const Poco::Message& message) override {
        std::lock_guard<std::mutex> lock(mutex);
        texts.push_back(message.getText());
    }
    std::mutex mutex;
    std::vector<std::string> texts;
};

TEST_F(DeliveryIntakeTest, LogsRefusedSignaturesAtMostOnceASecond) {
    Poco::Logger& log = Poco::Logger::get("slipway.webhook");
    const Poco::Channel::Ptr before = log.getChannel();
    const int level = log.getLevel();
    Poco::AutoPtr<Lines> lines(new Lines);
    log.setChannel(lines);
    log.setLevel(Poco::Message::PRIO_WARNING);
    WebhookRequest request = signedRequest("pull_request", "d-9", mergedPullRequest("acme/exam"));
    request.signature = signatureFor("another secret", request.body);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(accept(request).status, HTTPResponse::HTTP_UNAUTHORIZED);
    log.setChannel(before);
    log.setLevel(level);
    ASSERT_EQ(lines->texts.size(), 1u) << "a flood of refusals is not a flood of lines";
    EXPECT_NE(lines->texts[0].find("X-Hub-Signature-256 does not match"), std::string::npos);
}

TEST_F(DeliveryIntakeTest, RefusesMissingAndMalformedHeadersAndBodies) {
    EXPECT_EQ(accept(signedRequest("", "d-4", "{}")).body.getValue<std::string>("detail"),
              "X-GitHub-Event is required");
    EXPECT_EQ(accept(signedRequest("push", "bad id!", "{}")).status, HTTPResponse::HTTP_BAD_REQUEST);
    const WebhookAnswer malformed = accept(signedRequest("pull_request", "d-5", "{not json"));
    EXPECT_EQ(malformed.status, HTTPResponse::HTTP_BAD_REQUEST);
    EXPECT_EQ(malformed.body.getValue<std::string>("error"), "malformed pull_request event");
}

TEST_F(DeliveryIntakeTest, RecordsAnUnconfiguredRepositoryAndAnswers404) {
    const WebhookAnswer answer =
        accept(signedRequest("pull_request", "d-6", mergedPullRequest("someone/else")));
    EXPECT_EQ(answer.status, HTTPResponse::HTTP_NOT_FOUND);
    EXPECT_EQ(answer.outcome, DeliveryOutcome::Unconfigured);
    EXPECT_EQ(answer.body.getValue<std::string>("error"), "repository not configured");
    ASSERT_EQ(store_.recentDeliveries(1).size(), 1u);
    EXPECT_EQ(store_.recentDeliveries(1)[0].outcome, DeliveryOutcome::Unconfigured);
}

TEST_F(DeliveryIntakeTest, AnswersPing200) {
    const WebhookAnswer answer =
        accept(signedRequest("ping", "d-7", R"({"zen": "Keep it simple.", "repository": {"full_name": "acme/exam"}})"));
    EXPECT_EQ(answer.status, HTTPResponse::HTTP_OK) << text(answer.body);
    EXPECT_EQ(answer.outcome, DeliveryOutcome::Ping);
    EXPECT_FALSE(answer.jobsQueued);
}

}  // namespace
}  // namespace slipway
