#include "daemon/http/webhook_handler.h"

#include <sstream>

#include <gtest/gtest.h>

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

constexpr std::chrono::seconds kTimeout{10};

FramedBody frame(std::optional<std::int64_t> length, const std::string& sent, std::size_t limit = 64) {
    std::istringstream in(sent);
    return readWebhookBody(length, in, limit, kTimeout);
}

TEST(WebhookFraming, ReadsABodyOfItsContentLength) {
    const FramedBody framed = frame(11, "{\"a\": \"b\"}\n");
    EXPECT_FALSE(framed.refusal);
    EXPECT_EQ(framed.body, "{\"a\": \"b\"}\n");
}

TEST(WebhookFraming, RequiresAContentLength) {
    const FramedBody framed = frame(std::nullopt, "{}");
    ASSERT_TRUE(framed.refusal);
    EXPECT_EQ(framed.refusal->status, HTTPResponse::HTTP_LENGTH_REQUIRED);
}

TEST(WebhookFraming, RefusesALengthOverTheLimitWithoutReadingTheBody) {
    std::istringstream in(std::string(100, 'x'));
    const FramedBody framed = readWebhookBody(100, in, 64, kTimeout);
    ASSERT_TRUE(framed.refusal);
    EXPECT_EQ(framed.refusal->status, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE);
    EXPECT_EQ(framed.refusal->body.getValue<std::string>("detail"), "limit is 64 bytes");
    EXPECT_EQ(in.tellg(), 0) << "nothing of the body was read";
}

TEST(WebhookFraming, RefusesABodyLongerThanTheLimitHavingReadNoMoreThanTheLimit) {
    // A Content-Length under the limit, and more bytes than it behind it.
    std::istringstream in(std::string(1000, 'x'));
    const FramedBody framed = readWebhookBody(10, in, 64, kTimeout);
    ASSERT_TRUE(framed.refusal);
    EXPECT_EQ(framed.refusal->status, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE);
    EXPECT_LE(in.tellg(), 65);
}

TEST(WebhookFraming, SaysABodyShorterThanItsLengthWasCutShort) {
    const FramedBody framed = frame(20, "{\"cut\":");
    ASSERT_TRUE(framed.refusal);
    EXPECT_EQ(framed.refusal->status, HTTPResponse::HTTP_BAD_REQUEST);
    EXPECT_EQ(framed.refusal->body.getValue<std::string>("error"), "body cut short");
    EXPECT_EQ(framed.refusal->body.getValue<std::string>("detail"),
              "the body ended after 7 of the 20 bytes its Content-Length announced");
}

}  // namespace
}  // namespace slipway
