#include "daemon/http/request_framing.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

std::size_t limitOf1000(const std::string&, const std::string&) { return 1000; }

std::variant<RequestHead, FramingRefusal> frame(const std::string& block) { return frameRequest(block, limitOf1000); }

// The refusal's status, or 0 when the block is taken.
int refusedWith(const std::string& block) {
    const auto framed = frame(block);
    const auto* refusal = std::get_if<FramingRefusal>(&framed);
    return refusal ? static_cast<int>(refusal->status) : 0;
}

TEST(HeaderBlockEnd, IsJustPastTheEmptyLine) {
    EXPECT_EQ(headerBlockEnd("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), 27u);
    EXPECT_EQ(headerBlockEnd("GET / HTTP/1.1\nHost: a\n\nbody"), 24u);
    EXPECT_EQ(headerBlockEnd("GET / HTTP/1.1\r\nHost: a\r\n"), std::string::npos);
    EXPECT_EQ(headerBlockEnd("GET / HTTP/1.1\r\nHost: a\r\n\r"), std::string::npos);
}

TEST(RequestFraming, ReadsTheRequestLineFieldsAndLength) {
    const auto framed = frame("POST /hooks/github?x=1 HTTP/1.1\r\nHost: ci\r\nContent-Length: 42\r\n"
                              "X-GitHub-Event:  push \r\n\r\n");
    const auto& head = std::get<RequestHead>(framed);
    EXPECT_EQ(head.request.getMethod(), "POST");
    EXPECT_EQ(head.request.getURI(), "/hooks/github?x=1");
    EXPECT_EQ(head.request.get("X-GitHub-Event"), "push");
    EXPECT_EQ(head.contentLength, 42u);
    EXPECT_TRUE(head.keepAlive);
    EXPECT_FALSE(head.expectContinue);
}

TEST(RequestFraming, KeepsHttp10AliveOnlyWhenAsked) {
    EXPECT_FALSE(std::get<RequestHead>(frame("GET / HTTP/1.0\r\n\r\n")).keepAlive);
    EXPECT_TRUE(std::get<RequestHead>(frame("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")).keepAlive);
    EXPECT_FALSE(std::get<RequestHead>(frame("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).keepAlive);
}

TEST(RequestFraming, RefusesTwoLengthsThatDiffer) {
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), 400);
}

TEST(RequestFraming, TakesALengthRepeatedWithTheSameValue) {
    const auto framed = frame("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 005, 5\r\n\r\n");
    EXPECT_EQ(std::get<RequestHead>(framed).contentLength, 5u);
    // One field for the handlers, which read it with Poco.
    EXPECT_EQ(std::get<RequestHead>(framed).request.getContentLength64(), 5);
}

TEST(RequestFraming, ReadsFieldNamesInAnyCase) {
    // Field names are case-insensitive (RFC 9110, section 5.1): a smuggler's
    // lower-case second length or coding counts as much as the first.
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-LENGTH: 6\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ntransfer-encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n"), 400);
    EXPECT_EQ(std::get<RequestHead>(frame("POST / HTTP/1.1\r\nHOST: a\r\ncontent-length: 7\r\n\r\n")).contentLength, 7u);
}

TEST(RequestFraming, RefusesALengthWithTransferEncoding) {
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(RequestFraming, RefusesALengthThatIsNotANumberOrOverflows) {
    for (const std::string length : {"-1", "+5", "5x", "0x10", "", "1 2", "99999999999999999999"}) {
        EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\n"), 400) << length;
    }
}

TEST(RequestFraming, RefusesALengthOverTheRouteLimit) {
    const auto framed = frame("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n");
    const auto& refusal = std::get<FramingRefusal>(framed);
    EXPECT_EQ(refusal.status, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE);
    EXPECT_EQ(refusal.detail, "limit is 1000 bytes");
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n"), 0);
}

TEST(RequestFraming, AsksForALengthInsteadOfChunks) {
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
}

TEST(RequestFraming, RefusesFieldNamesThatAreNotTokens) {
    // A space before the colon: another reader may take the field, or not.
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n"), 400);
}

TEST(RequestFraming, WantsOneHostInHttp11) {
    EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("GET / HTTP/1.0\r\n\r\n"), 0);
}

TEST(RequestFraming, RefusesABadRequestLine) {
    EXPECT_EQ(refusedWith("GET /\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(refusedWith("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
}

TEST(RequestFraming, MeetsOnly100Continue) {
    EXPECT_TRUE(std::get<RequestHead>(frame("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                                            "Expect: 100-continue\r\n\r\n"))
                    .expectContinue);
    EXPECT_EQ(refusedWith("POST / HTTP/1.1\r\nHost: a\r\nExpect: the-unexpected\r\n\r\n"), 417);
}

TEST(RequestFraming, RefusesTooManyFields) {
    std::string block = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100; ++i) block += "X-" + std::to_string(i) + ": 1\r\n";
    EXPECT_EQ(refusedWith(block + "\r\n"), 431);
}

}  // namespace
}  // namespace slipway
