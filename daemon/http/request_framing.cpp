#include "daemon/http/request_framing.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <Poco/Ascii.h>
#include <Poco/String.h>

namespace slipway {
namespace {

using Poco::Net::HTTPResponse;

// More fields than any client slipwayd serves sends; GitHub sends about 15.
constexpr std::size_t kMaxFields = 100;

FramingRefusal badRequest(const std::string& detail) {
    return {HTTPResponse::HTTP_BAD_REQUEST, "bad request", detail};
}

// RFC 9110, section 5.6.2.
bool isTokenChar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view text) { return !text.empty() && std::all_of(text.begin(), text.end(), isTokenChar); }

// Field names compare without regard to case (RFC 9110, section 5.1).
bool sameName(std::string_view name, std::string_view other) {
    return name.size() == other.size() &&
           std::equal(name.begin(), name.end(), other.begin(),
                      [](char a, char b) { return Poco::Ascii::toLower(a) == Poco::Ascii::toLower(b); });
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// The lines of a header block, without their CRLF or LF; the last, empty one left out.
std::vector<std::string_view> linesOf(std::string_view block) {
    std::vector<std::string_view> lines;
    while (!block.empty()) {
        const std::size_t end = block.find('\n');
        std::string_view line = block.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        lines.push_back(line);
        if (end == std::string_view::npos) break;
        block.remove_prefix(end + 1);
    }
    return lines;
}

// A Content-Length value: 1*DIGIT, at most what a size_t holds.
bool parseLength(std::string_view text, std::size_t& length) {
    if (text.empty()) return false;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) return false;
        value = value * 10 + digit;
    }
    length = static_cast<std::size_t>(value);
    return true;
}

}  // namespace

std::size_t headerBlockEnd(std::string_view buffered) {
    for (std::size_t at = buffered.find('\n'); at != std::string_view::npos; at = buffered.find('\n', at + 1)) {
        // A line that is empty (LF LF) or holds only CR (LF CR LF) ends the block.
        if (at + 1 < buffered.size() && buffered[at + 1] == '\n') return at + 2;
        if (at + 2 < buffered.size() && buffered[at + 1] == '\r' && buffered[at + 2] == '\n') return at + 3;
    }
    return std::string_view::npos;
}

std::variant<RequestHead, FramingRefusal> frameRequest(std::string_view block, const BodyLimit& bodyLimit) {
    // Poco's MessageHeader::read skips a line without a colon and keeps a
    // space before one in the name: lax where RFC 9112 asks for a refusal,
    // since two readers seeing different fields is how requests are smuggled.
    const std::vector<std::string_view> lines = linesOf(block);
    if (lines.empty()) return badRequest("no request line");
    const std::string_view requestLine = lines.front();
    const std::size_t firstSpace = requestLine.find(' ');
    const std::size_t lastSpace = requestLine.rfind(' ');
    if (firstSpace == std::string_view::npos || firstSpace == lastSpace) {
        return badRequest("the request line is not 'METHOD target HTTP/1.1'");
    }
    const std::string_view method = requestLine.substr(0, firstSpace);
    const std::string_view target = requestLine.substr(firstSpace + 1, lastSpace - firstSpace - 1);
    const std::string_view version = requestLine.substr(lastSpace + 1);
    if (!isToken(method)) return badRequest("the method is not a token");
    if (target.empty() || target.front() != '/' || target.find_first_of(" \t\r") != std::string_view::npos) {
        return badRequest("the request target is not an absolute path");
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        return FramingRefusal{HTTPResponse::HTTP_VERSION_NOT_SUPPORTED, "HTTP version not supported",
                              "slipwayd speaks HTTP/1.1 and HTTP/1.0, not " + std::string(version.substr(0, 16))};
    }
    if (lines.size() - 1 > kMaxFields) {
        return FramingRefusal{HTTPResponse::HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "header fields too large",
                              "more than " + std::to_string(kMaxFields) + " header fields"};
    }

    RequestHead head;
    head.request.setMethod(std::string(method));
    head.request.setURI(std::string(target));
    head.request.setVersion(std::string(version));
    std::vector<std::string_view> lengths;
    std::vector<std::string_view> hosts;
    bool transferEncoding = false;
    std::string coding;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        if (line.front() == ' ' || line.front() == '\t') return badRequest("obsolete line folding in the header");
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return badRequest("a header line without a colon");
        const std::string_view name = line.substr(0, colon);
        if (!isToken(name)) return badRequest("a header field name that is not a token: '" + std::string(name.substr(0, 64)) + "'");
        const std::string_view value = trimmed(line.substr(colon + 1));
        if (value.find_first_of("\r\n") != std::string_view::npos || value.find('\0') != std::string_view::npos) {
            return badRequest("a bare CR or NUL in the " + std::string(name) + " field");
        }
        head.request.add(std::string(name), std::string(value));
        if (sameName(name, "Content-Length")) {
            // A list of equal values ("42, 42") is one length (RFC 9110, section 8.6).
            std::string_view rest = value;
            while (true) {
                const std::size_t comma = rest.find(',');
                lengths.push_back(trimmed(rest.substr(0, comma)));
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        } else if (sameName(name, "Host")) {
            hosts.push_back(value);
        } else if (sameName(name, "Transfer-Encoding")) {
            transferEncoding = true;
            coding = Poco::toLower(std::string(value));
        }
    }

    if (version == "HTTP/1.1" && hosts.size() != 1) {
        return badRequest(hosts.empty() ? "an HTTP/1.1 request without Host" : "more than one Host field");
    }
    if (transferEncoding && !lengths.empty()) {
        return badRequest("both Content-Length and Transfer-Encoding: the body's length is ambiguous");
    }
    if (transferEncoding) {
        if (coding != "chunked") {
            return FramingRefusal{HTTPResponse::HTTP_NOT_IMPLEMENTED, "transfer coding not implemented",
                                  "Transfer-Encoding: " + coding.substr(0, 64)};
        }
        return FramingRefusal{HTTPResponse::HTTP_LENGTH_REQUIRED, "length required",
                              "a body must be sent with Content-Length: slipwayd reads no chunked bodies"};
    }
    for (const std::string_view text : lengths) {
        std::size_t length = 0;
        if (!parseLength(text, length)) {
            return badRequest("Content-Length is not a number that fits: '" + std::string(text.substr(0, 32)) + "'");
        }
        if (text != lengths.front()) {
            std::size_t first = 0;
            parseLength(lengths.front(), first);
            if (first != length) return badRequest("two Content-Length values that differ");
        }
        head.contentLength = length;
    }
    if (!lengths.empty()) {
        // One field with the one value, for what reads it after ("5, 5" is not a number to Poco).
        head.request.erase("Content-Length");
        head.request.setContentLength64(static_cast<Poco::Int64>(head.contentLength));
    }
    const std::string path = std::string(target.substr(0, target.find('?')));
    const std::size_t limit = bodyLimit(head.request.getMethod(), path);
    if (head.contentLength > limit) {
        return FramingRefusal{HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "body too large",
                              "limit is " + std::to_string(limit) + " bytes"};
    }
    const std::string expect = Poco::toLower(head.request.get("Expect", ""));
    if (!expect.empty() && expect != "100-continue") {
        return FramingRefusal{HTTPResponse::HTTP_EXPECTATION_FAILED, "expectation failed",
                              "Expect: " + expect.substr(0, 64) + "; only 100-continue is met"};
    }
    head.expectContinue = !expect.empty() && version == "HTTP/1.1";
    head.keepAlive = head.request.getKeepAlive();
    return head;
}

}  // namespace slipway
