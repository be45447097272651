#include "daemon/github/webhook_event.h"

#include <gtest/gtest.h>

#include <Poco/URI.h>

namespace slipway {
namespace {

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

std::string mergedPr(const std::string& sha = kSha) {
    return R"({"action": "closed", "number": 4, "pull_request": {"merged": true, "merge_commit_sha": ")" + sha +
           R"(", "base": {"ref": "main"}}, "repository": {"full_name": "acme/exam"}})";
}

TEST(WebhookEvent, ReadsAMergedPullRequest) {
    const WebhookEvent e = parseWebhook("pull_request", "application/json", mergedPr());
    EXPECT_EQ(e.event, "pull_request");
    EXPECT_EQ(e.action, "closed");
    EXPECT_TRUE(e.merged);
    EXPECT_EQ(e.sha, kSha);
    EXPECT_EQ(e.branch, "main");
    EXPECT_EQ(e.repo, "acme/exam");
}

TEST(WebhookEvent, ReadsAnUnmergedPullRequestWithoutAMergeCommit) {
    const WebhookEvent e = parseWebhook(
        "pull_request", "application/json",
        R"({"action": "opened", "pull_request": {"merged": null, "merge_commit_sha": null, "base": {"ref": "main"}},
            "repository": {"full_name": "acme/exam"}})");
    EXPECT_FALSE(e.merged);
    EXPECT_EQ(e.sha, "");
}

TEST(WebhookEvent, ReadsAFormEncodedPayload) {
    std::string encoded;
    Poco::URI::encode(mergedPr(), "&=+;/?:@ ", encoded);
    const WebhookEvent e =
        parseWebhook("pull_request", "application/x-www-form-urlencoded; charset=utf-8", "payload=" + encoded);
    EXPECT_EQ(e.sha, kSha);
    EXPECT_EQ(e.repo, "acme/exam");
}

TEST(WebhookEvent, ReadsAPush) {
    const WebhookEvent e = parseWebhook(
        "push", "application/json",
        R"({"ref": "refs/heads/main", "after": ")" + kSha + R"(", "deleted": false, "repository": {"full_name": "acme/exam"}})");
    EXPECT_EQ(e.branch, "main");
    EXPECT_EQ(e.sha, kSha);
    EXPECT_FALSE(e.deleted);
}

TEST(WebhookEvent, ReadsAPingWithoutRepository) {
    const WebhookEvent e = parseWebhook("ping", "application/json", R"({"zen": "Keep it logically awesome.", "hook_id": 1})");
    EXPECT_EQ(e.event, "ping");
    EXPECT_EQ(e.repo, "");
}

void expectError(const std::string& event, const std::string& contentType, const std::string& body,
                 const std::string& expected) {
    try {
        parseWebhook(event, contentType, body);
        ADD_FAILURE() << "no error for " << body;
    } catch (const WebhookError& e) {
        EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
}

TEST(WebhookEvent, OnlyPullRequestsAndPushesNeedARepository) {
    // An app's installation event, sent to its webhook, names no repository.
    const WebhookEvent e = parseWebhook("installation", "application/json", R"({"action": "created", "installation": {"id": 1}})");
    EXPECT_EQ(e.event, "installation");
    EXPECT_EQ(e.action, "created");
    EXPECT_EQ(e.repo, "");
    expectError("pull_request", "application/json", R"({"action": "opened", "pull_request": {}})", "missing repository");
}

TEST(WebhookEvent, NamesWhatIsWrong) {
    expectError("pull_request", "application/json", "{", "not valid JSON");
    expectError("pull_request", "application/json", "[]", "must be a JSON object");
    expectError("pull_request", "text/plain", mergedPr(), "Content-Type must be");
    expectError("pull_request", "application/x-www-form-urlencoded", "other=1", "no 'payload' field");
    expectError("pull_request", "application/json", mergedPr("not-a-sha"), "merge_commit_sha is not 40 hex");
    expectError("pull_request", "application/json", mergedPr(kSha + "00"), "merge_commit_sha is not 40 hex");
    expectError("pull_request", "application/json", R"({"action": "closed", "repository": {"full_name": "a/b"}})",
                "missing pull_request");
    expectError("pull_request", "application/json",
                R"({"action": 5, "pull_request": {}, "repository": {"full_name": "a/b"}})", "action must be a string");
    expectError("pull_request", "application/json",
                R"({"action": "closed", "pull_request": {"merged": "yes", "base": {"ref": "main"}}, "repository": {"full_name": "a/b"}})",
                "pull_request.merged must be true or false");
    expectError("push", "application/json", R"({"ref": "refs/heads/main", "after": "x", "repository": {"full_name": "a/b"}})",
                "after is not 40 hex");
    expectError("push", "application/json", R"({"ref": "refs/heads/main", "after": ")" + kSha + R"("})",
                "missing repository");
    expectError("push", "application/json", R"({"ref": "refs/heads/main", "after": ")" + kSha + R"(", "repository": []})",
                "repository must be an object");
}

TEST(WebhookEvent, ReadsOnlyTheMembersItsPathsName) {
    // A real payload carries the same names elsewhere: in arrays, in other
    // objects, and as keys with dots in them. None of them may be taken for
    // the members slipway reads.
    const WebhookEvent e = parseWebhook(
        "pull_request", "application/json",
        R"({"repository.full_name": "evil/one", "commits": [{"after": "x", "ref": 1}],)"
        R"( "head": {"pull_request": {"merge_commit_sha": "nope"}},)"
        R"( "action": "closed", "pull_request": {"merged": true, "merge_commit_sha": ")" + kSha +
            R"(", "head": {"ref": "feature"}, "base": {"ref": "main", "repo": {"full_name": "evil/two"}}},)"
            R"( "repository": {"owner": {"full_name": "evil/three"}, "full_name": "acme/exam"}})");
    EXPECT_EQ(e.repo, "acme/exam");
    EXPECT_EQ(e.branch, "main");
    EXPECT_EQ(e.sha, kSha);
}

TEST(WebhookEvent, ARepeatedKeyTakesItsLastValueWhole) {
    // As a parsed JSON object would: the later member replaces the earlier one,
    // and an object given twice keeps nothing of its first value.
    const WebhookEvent e = parseWebhook(
        "pull_request", "application/json",
        R"({"action": "opened", "action": "closed", "repository": {"full_name": "a/first"},)"
        R"( "pull_request": {"merged": true, "merge_commit_sha": ")" + kSha +
            R"(", "base": {"ref": "main"}}, "repository": {"full_name": "acme/exam"}})");
    EXPECT_EQ(e.action, "closed");
    EXPECT_EQ(e.repo, "acme/exam");
    expectError("pull_request", "application/json",
                R"({"action": "closed", "pull_request": {"merged": false, "base": {"ref": "main"}},)"
                R"( "pull_request": {"merged": false}, "repository": {"full_name": "a/b"}})",
                "missing pull_request.base");
}

TEST(WebhookEvent, ChecksTheWholeBodyNotOnlyWhatItReads) {
    // JSON is UTF-8 (RFC 8259), in the values slipway skips too.
    expectError("pull_request", "application/json",
                std::string(R"({"action": "clo)") + "\xff" +
                    R"(sed", "pull_request": {"merged": false, "base": {"ref": "main"}}, "repository": {"full_name": "a/b"}})",
                "not valid UTF-8");
    expectError("pull_request", "application/json", std::string(R"({"body": ")") + "\xff\xfe" + R"(", )" + mergedPr().substr(1),
                "not valid UTF-8");
    // A number is read whole, wherever it is: one that fits a double passes,
    // an integer beyond 64 bits is out of range (RFC 8259 lets a reader limit it).
    EXPECT_EQ(parseWebhook("pull_request", "application/json", R"({"id": 1.5e300, )" + mergedPr().substr(1)).sha, kSha);
    expectError("pull_request", "application/json",
                R"({"big": 123456789012345678901234567890, )" + mergedPr().substr(1), "out of range");
    expectError("pull_request", "application/json", R"({"id": 01, )" + mergedPr().substr(1), "a number is malformed");
    expectError("pull_request", "application/json", R"({"skipped": [1,,2], )" + mergedPr().substr(1), "not valid JSON");
    expectError("pull_request", "application/json", mergedPr() + std::string(1, '\0') + "junk", "a NUL byte at byte");
    // Inside a string, between two members, right after a value: simdjson
    // refuses each, and the error says where the NUL is, whatever else it found.
    const auto nulAt = [](const std::string& body) -> std::string {
        try {
            parseWebhook("pull_request", "application/json", body);
        } catch (const WebhookError& e) {
            return e.what();
        }
        return "accepted";
    };
    EXPECT_EQ(nulAt(std::string(R"({"title": "a)") + '\0' + R"(b", )" + mergedPr().substr(1)),
              "body is not valid JSON: a NUL byte at byte 12");
    EXPECT_EQ(nulAt(std::string("{") + '\0' + mergedPr().substr(1)), "body is not valid JSON: a NUL byte at byte 1");
    EXPECT_EQ(nulAt(std::string(R"({"draft": true)") + '\0' + ", " + mergedPr().substr(1)),
              "body is not valid JSON: a NUL byte at byte 14");
    expectError("pull_request", "application/json", mergedPr() + " {}", "not valid JSON");
}

TEST(WebhookEvent, ParsesABodyLargerThanTheKeptParserAndTheNextSmallOne) {
    // Over 64 KiB: parsed by a parser of its own; the thread's kept one still serves the next.
    const std::string large =
        R"({"padding": ")" + std::string(200 * 1024, 'x') + R"(", )" + mergedPr().substr(1);
    EXPECT_EQ(parseWebhook("pull_request", "application/json", large).sha, kSha);
    EXPECT_EQ(parseWebhook("pull_request", "application/json", mergedPr()).repo, "acme/exam");
}

TEST(WebhookEvent, RefusesDeepNesting) {
    expectError("pull_request", "application/json", std::string(100000, '[') + std::string(100000, ']'),
                "nested deeper than 64 levels");
    expectError("pull_request", "application/json", std::string(65, '[') + "1" + std::string(65, ']'),
                "nested deeper");
    // 64 levels pass the parser (and then fail as what they are).
    expectError("pull_request", "application/json", std::string(64, '[') + "1" + std::string(64, ']'),
                "must be a JSON object");
    // The same bound for a body over 64 KiB, which a parser of its own parses.
    const std::string padding = R"({"padding": ")" + std::string(100 * 1024, 'x') + R"(", "deep": )";
    expectError("pull_request", "application/json", padding + std::string(64, '[') + "1" + std::string(64, ']') + "}",
                "nested deeper than 64 levels");
    expectError("pull_request", "application/json", padding + std::string(63, '[') + "1" + std::string(63, ']') + "}",
                "missing repository");
}

TEST(WebhookEvent, RecognisesCommitShas) {
    EXPECT_TRUE(isCommitSha(kSha));
    EXPECT_TRUE(isCommitSha("0123456789ABCDEF0123456789abcdef01234567"));
    EXPECT_FALSE(isCommitSha(kSha.substr(1)));
    EXPECT_FALSE(isCommitSha("g123456789abcdef0123456789abcdef01234567"));
}

}  // namespace
}  // namespace slipway
