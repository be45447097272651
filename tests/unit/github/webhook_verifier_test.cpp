#include "daemon/github/webhook_verifier.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

// The test vector from GitHub's "Validating webhook deliveries" documentation.
const std::string kSecret = "It's a Secret to Everybody";
const std::string kBody = "Hello, World!";
const std::string kSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

TEST(WebhookVerifier, ComputesGitHubsDocumentedSignature) { EXPECT_EQ(signatureFor(kSecret, kBody), kSignature); }

TEST(WebhookVerifier, AcceptsGitHubsDocumentedVector) { EXPECT_TRUE(verifySignature(kSecret, kBody, kSignature)); }

TEST(WebhookVerifier, RefusesAnotherBody) { EXPECT_FALSE(verifySignature(kSecret, "Hello, World?", kSignature)); }

TEST(WebhookVerifier, RefusesAnotherSecret) { EXPECT_FALSE(verifySignature("not the secret", kBody, kSignature)); }

TEST(WebhookVerifier, RefusesOneFlippedDigit) {
    std::string tampered = kSignature;
    tampered.back() = '6';
    EXPECT_FALSE(verifySignature(kSecret, kBody, tampered));
}

TEST(WebhookVerifier, RefusesMalformedHeaders) {
    EXPECT_FALSE(verifySignature(kSecret, kBody, ""));
    EXPECT_FALSE(verifySignature(kSecret, kBody, kSignature.substr(7)));  // no "sha256="
    EXPECT_FALSE(verifySignature(kSecret, kBody, kSignature + "00"));
    EXPECT_FALSE(verifySignature(kSecret, kBody, "sha1=757107ea0eb2509fc211221cce984b8a37570b6d"));
}

TEST(WebhookVerifier, IsCaseSensitiveAboutTheHexDigest) {
    std::string upper = "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17";
    EXPECT_FALSE(verifySignature(kSecret, kBody, upper));
}

}  // namespace
}  // namespace slipway
