#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>

#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketAddress.h>

#include "daemon/http/request_framing.h"

namespace slipway {

// Where a streamed answer (a followed log) goes while its handler still runs.
class AnswerSink {
public:
    virtual ~AnswerSink() = default;
    // Writes all of `bytes`; false when the client is gone or takes them too slowly.
    virtual bool write(std::string_view bytes) = 0;
    // False once the client has closed its side or reset the connection.
    virtual bool connected() = 0;
};

// A hold on an answer its handler finishes after returning (see
// BufferedResponse::answerLater).
using AnswerHold = std::shared_ptr<void>;

// A request the front door has read whole, header and body, as the Poco
// request the handlers take: its stream reads the body from memory.
class BufferedRequest final : public Poco::Net::HTTPServerRequest {
public:
    // Takes `head`'s fields (its method, target and version stay).
    BufferedRequest(RequestHead& head, std::string body, const Poco::Net::SocketAddress& client,
                    const Poco::Net::SocketAddress& server, bool secure, Poco::Net::HTTPServerResponse& response);

    std::istream& stream() override { return *stream_; }
    // The body, moved out (a handler that keeps it saves a copy); the
    // stream reads nothing after this.
    std::string takeBody();
    const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
    const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
    const Poco::Net::HTTPServerParams& serverParams() const override { return *params_; }
    Poco::Net::HTTPServerResponse& response() const override { return response_; }
    bool secure() const override { return secure_; }

private:
    std::string body_;
    std::optional<Poco::MemoryInputStream> stream_;  // over body_
    Poco::Net::SocketAddress client_;
    Poco::Net::SocketAddress server_;
    bool secure_;
    Poco::Net::HTTPServerResponse& response_;
    Poco::Net::HTTPServerParams::Ptr params_;
};

// The answer a handler writes, kept in memory and framed by Content-Length
// when the handler returns; a chunked answer (setChunkedTransferEncoding)
// goes out through the sink at each flush instead, so that a followed log
// arrives as it is written. A flush with nothing new asks the sink whether
// the client is still there: a follower that went away fails its next flush,
// not the next write of the build.
class BufferedResponse final : public Poco::Net::HTTPServerResponse {
public:
    // `version` and `headRequest` are the request's; `keepAlive` whether the
    // connection may stay open after this answer (a handler may still say no).
    BufferedResponse(const std::string& version, bool headRequest, bool keepAlive, AnswerSink& sink);

    // The front door answered 100 Continue before it read the body.
    void sendContinue() override {}
    std::ostream& send() override;
    void sendBuffer(const void* buffer, std::size_t length) override;
    void redirect(const std::string& uri, HTTPStatus status = HTTP_FOUND) override;
    void requireAuthentication(const std::string& realm) override;
    // No route sends a file; Poco's interface asks for it.
    void sendFile(const std::string& path, const std::string& mediaType) override;
    bool sent() const override { return sent_; }

    // For a handler whose answer waits on another thread's work (a webhook's
    // commit), so that its worker does not wait too: the handler takes a
    // hold and returns; the other thread writes this response (which stays
    // alive) and releases the hold; the front door sends the answer once the
    // handler has returned and every hold is released, from the thread that
    // released the last. An answer never sent is a 500. Once another thread
    // may write the response, the handler must neither throw nor touch it.
    // Not for streamed answers. Null (answer at return) when nothing holds answers.
    AnswerHold answerLater();
    // Whether the handler took a hold.
    bool answeredLater() const { return answeredLater_; }
    // What answerLater hands out: the front door's exchange.
    void holdAnswersWith(std::weak_ptr<void> exchange) { holds_ = std::move(exchange); }

    // What is still to be sent once the handler has returned: the whole
    // answer, or the rest of a streamed one and its last chunk.
    std::string finish();
    // Whether a flush failed: the client went away during a streamed answer.
    bool broken() const { return broken_; }
    // Whether part of the answer has gone out already.
    bool streaming() const { return streaming_; }

private:
    class Body : public std::streambuf {
    public:
        explicit Body(BufferedResponse& owner) : owner_(owner) {}

    protected:
        int_type overflow(int_type c) override;
        std::streamsize xsputn(const char* data, std::streamsize size) override;
        int sync() override;

    private:
        BufferedResponse& owner_;
    };

    std::string head() const;
    // Sends the head if not yet sent and what the handler wrote since the last flush, as a chunk.
    bool flushStreamed();

    bool headRequest_;
    AnswerSink& sink_;
    std::string body_;  // written by the handler, not yet sent
    Body buffer_;
    std::ostream stream_;
    bool sent_ = false;
    bool streamed_ = false;   // chunked when sent: flushes go out through the sink
    bool streaming_ = false;  // the head has gone out through the sink
    bool broken_ = false;
    std::weak_ptr<void> holds_;
    bool answeredLater_ = false;
};

// A refusal the front door answers itself, before any handler: the JSON
// {"error", "detail"} every route answers with, and "Connection: close".
std::string refusalAnswer(const FramingRefusal& refusal);

}  // namespace slipway
