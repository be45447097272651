#include "daemon/http/exchange.h"

#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/NumberFormatter.h>

namespace slipway {
namespace {

void appendChunk(std::string& out, std::string_view data) {
    if (data.empty()) return;
    out += Poco::NumberFormatter::formatHex(static_cast<unsigned long>(data.size()));
    out += "\r\n";
    out.append(data);
    out += "\r\n";
}

}  // namespace

BufferedRequest::BufferedRequest(RequestHead& head, std::string body, const Poco::Net::SocketAddress& client,
                                 const Poco::Net::SocketAddress& server, bool secure,
                                 Poco::Net::HTTPServerResponse& response)
    : body_(std::move(body)),
      client_(client),
      server_(server),
      secure_(secure),
      response_(response),
      params_(new Poco::Net::HTTPServerParams) {
    setMethod(head.request.getMethod());
    setURI(head.request.getURI());
    setVersion(head.request.getVersion());
    NameValueCollection::swap(head.request);
    stream_.emplace(body_.data(), body_.size());
}

std::string BufferedRequest::takeBody() {
    std::string body = std::move(body_);
    body_.clear();
    stream_.emplace(body_.data(), 0);
    return body;
}

BufferedResponse::BufferedResponse(const std::string& version, bool headRequest, bool keepAlive, AnswerSink& sink)
    : headRequest_(headRequest), sink_(sink), buffer_(*this), stream_(&buffer_) {
    setVersion(version);
    setKeepAlive(keepAlive);
}

std::ostream& BufferedResponse::send() {
    sent_ = true;
    streamed_ = getChunkedTransferEncoding() && !headRequest_;
    // HTTP/1.0 has no chunks: a streamed answer there ends with the connection.
    if (streamed_ && getVersion() == HTTP_1_0) {
        setChunkedTransferEncoding(false);
        setKeepAlive(false);
    }
    return stream_;
}

void BufferedResponse::sendBuffer(const void* buffer, std::size_t length) {
    setContentLength64(static_cast<Poco::Int64>(length));
    send().write(static_cast<const char*>(buffer), static_cast<std::streamsize>(length));
}

void BufferedResponse::redirect(const std::string& uri, HTTPStatus status) {
    setStatusAndReason(status);
    set("Location", uri);
    setContentLength(0);
    send();
}

void BufferedResponse::requireAuthentication(const std::string& realm) {
    setStatusAndReason(HTTP_UNAUTHORIZED);
    set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
}

void BufferedResponse::sendFile(const std::string& path, const std::string&) {
    throw Poco::NotImplementedException("slipwayd serves no files: " + path);
}

AnswerHold BufferedResponse::answerLater() {
    AnswerHold hold = holds_.lock();
    if (hold) answeredLater_ = true;
    return hold;
}

std::string BufferedResponse::head() const {
    std::ostringstream out;
    write(out);
    return out.str();
}

bool BufferedResponse::flushStreamed() {
    std::string out;
    if (!streaming_) {
        out = head();
        streaming_ = true;
    }
    if (getChunkedTransferEncoding()) {
        appendChunk(out, body_);
    } else {
        out += body_;
    }
    body_.clear();
    if (out.empty()) return sink_.connected();
    return sink_.write(out);
}

std::string BufferedResponse::finish() {
    if (!sent_) send();
    if (streaming_) {
        std::string rest;
        if (getChunkedTransferEncoding()) {
            appendChunk(rest, body_);
            rest += "0\r\n\r\n";
        } else {
            rest = std::move(body_);
        }
        body_.clear();
        return rest;
    }
    // Never flushed: framed by its length, whatever the handler asked for.
    setChunkedTransferEncoding(false);
    setContentLength64(static_cast<Poco::Int64>(body_.size()));
    std::string answer = head();
    if (!headRequest_) answer += body_;
    body_.clear();
    return answer;
}

BufferedResponse::Body::int_type BufferedResponse::Body::overflow(int_type c) {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    owner_.body_ += traits_type::to_char_type(c);
    return c;
}

std::streamsize BufferedResponse::Body::xsputn(const char* data, std::streamsize size) {
    owner_.body_.append(data, static_cast<std::size_t>(size));
    return size;
}

int BufferedResponse::Body::sync() {
    // Only a streamed answer leaves before the handler returns.
    if (!owner_.streamed_) return 0;
    if (owner_.broken_) return -1;
    if (!owner_.flushStreamed()) owner_.broken_ = true;
    return owner_.broken_ ? -1 : 0;
}

std::string refusalAnswer(const FramingRefusal& refusal) {
    Poco::JSON::Object body;
    body.set("error", refusal.error);
    body.set("detail", refusal.detail);
    std::ostringstream text;
    body.stringify(text);
    text << "\n";
    Poco::Net::HTTPResponse response(Poco::Net::HTTPResponse::HTTP_1_1, refusal.status);
    response.setContentType("application/json");
    response.setContentLength64(static_cast<Poco::Int64>(text.str().size()));
    response.setKeepAlive(false);
    std::ostringstream out;
    response.write(out);
    out << text.str();
    return out.str();
}

}  // namespace slipway
