#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

namespace slipway {

// A request's header block as the front door read it, and how much body
// follows it.
struct RequestHead {
    Poco::Net::HTTPRequest request;  // method, target, version and fields
    std::size_t contentLength = 0;   // every body is framed by Content-Length
    bool keepAlive = true;           // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive"
    bool expectContinue = false;     // "Expect: 100-continue": the client waits for a 100 before its body
};

// Why a header block is refused. The connection is closed after the answer:
// once the framing is in doubt, so is where the next request starts.
struct FramingRefusal {
    Poco::Net::HTTPResponse::HTTPStatus status;
    std::string error;
    std::string detail;
};

// The largest body a request may have, by its method and path (no query).
using BodyLimit = std::function<std::size_t(const std::string& method, const std::string& path)>;

// Where the header block at the start of `buffered` ends (just past its
// empty line), or npos while it has not all arrived. A bare LF ends a line
// as CRLF does (RFC 9112, section 2.2).
std::size_t headerBlockEnd(std::string_view buffered);

// Reads one header block (up to and including its empty line) by the rules
// of RFC 9112, section 6: Content-Length given more than once with different
// values, together with Transfer-Encoding, or not a decimal number that fits
// is 400; Transfer-Encoding (a body of unknown length, a byte at a time, that
// no buffer limit could bound up front) is 411, or 501 for a coding other
// than chunked; a length over `bodyLimit` is 413, decided before any of the
// body is read. Also 400 for a field name that is not a token (a space
// before the colon would let two readers see different fields), a missing
// or repeated Host in HTTP/1.1, an unparsable request line; 505 for a
// version other than HTTP/1.0 and 1.1; 417 for an Expect other than
// 100-continue.
std::variant<RequestHead, FramingRefusal> frameRequest(std::string_view block, const BodyLimit& bodyLimit);

}  // namespace slipway
