#include "backends/engine_client.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/NumberParser.h>

#include "backends/backend.h"
#include "backends/transient_failure.h"

namespace slipway {
namespace {

using Clock = std::chrono::steady_clock;

Poco::Timespan timespan(std::chrono::seconds s) { return Poco::Timespan(static_cast<long>(s.count()), 0); }

}  // namespace

// Shuts the call's socket down when its time is up: a read or write blocked
// on it then returns, so no call outlives its deadline, however quiet the
// engine is (a RUN step may print nothing for an hour).
class EngineClient::Deadline {
public:
    Deadline(Calls& calls, Poco::Net::StreamSocket socket, Clock::time_point at)
        : calls_(calls), watchdog_([this, socket, at]() mutable {
              std::unique_lock<std::mutex> lock(mutex_);
              if (finished_.wait_until(lock, at, [this] { return done_ || aborted_; }) && !aborted_) return;
              expired_ = true;
              try {
                  socket.shutdown();
              } catch (const Poco::Exception&) {
                  // Already closed by the engine: nothing left to interrupt.
              }
          }) {
        std::lock_guard<std::mutex> lock(calls_.mutex);
        calls_.deadlines.insert(this);
    }
    ~Deadline() {
        {
            std::lock_guard<std::mutex> lock(calls_.mutex);
            calls_.deadlines.erase(this);
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        finished_.notify_one();
        watchdog_.join();
    }

    // Ends the call now, as if its deadline had come.
    void abort() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            aborted_ = true;
        }
        finished_.notify_one();
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    bool expired() const { return expired_; }

private:
    Calls& calls_;
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
    bool aborted_ = false;
    std::atomic<bool> expired_{false};
    std::thread watchdog_;  // last: it uses the members above
};

namespace {

// The "message" of an engine's JSON error body, else the body itself.
std::string messageOf(const std::string& body) {
    try {
        Poco::JSON::Object::Ptr error = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
        if (error && error->has("message")) return error->getValue<std::string>("message");
    } catch (const std::exception&) {
        // Not the JSON the API documents: show what came.
    }
    std::string text = body;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

}  // namespace

void EngineClient::abortCalls() const {
    std::lock_guard<std::mutex> lock(calls_->mutex);
    for (Deadline* call : calls_->deadlines) call->abort();
}

EngineEndpoint parseEngineEndpoint(const std::string& dockerHost) {
    const std::string expected = "expected unix:///path/to/docker.sock or tcp://host:port, got '" + dockerHost + "'";
    EngineEndpoint endpoint;
    if (dockerHost.rfind("unix://", 0) == 0) {
        endpoint.socketPath = dockerHost.substr(7);
        if (endpoint.socketPath.empty() || endpoint.socketPath[0] != '/') throw std::invalid_argument(expected);
        return endpoint;
    }
    if (dockerHost.rfind("tcp://", 0) == 0) {
        const std::string hostPort = dockerHost.substr(6);
        const auto colon = hostPort.rfind(':');
        unsigned port = 0;
        if (colon == std::string::npos || colon == 0 ||
            !Poco::NumberParser::tryParseUnsigned(hostPort.substr(colon + 1), port) || port == 0 || port > 65535) {
            throw std::invalid_argument(expected);
        }
        endpoint.host = hostPort.substr(0, colon);
        // [::1]:2375 names an IPv6 address.
        if (endpoint.host.size() > 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
            endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
        }
        endpoint.port = static_cast<std::uint16_t>(port);
        return endpoint;
    }
    throw std::invalid_argument(expected);
}

EngineClient::EngineClient(std::string dockerHost, std::chrono::seconds connectTimeout)
    : dockerHost_(std::move(dockerHost)), endpoint_(parseEngineEndpoint(dockerHost_)), connectTimeout_(connectTimeout) {}

Poco::Net::StreamSocket EngineClient::connect(std::chrono::seconds timeout) const {
    try {
        const Poco::Net::SocketAddress address =
            endpoint_.socketPath.empty()
                ? Poco::Net::SocketAddress(endpoint_.host, endpoint_.port)
                : Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, endpoint_.socketPath);
        Poco::Net::StreamSocket socket;
        socket.connect(address, timespan(std::min(timeout, connectTimeout_)));
        return socket;
    } catch (const Poco::Exception& e) {
        throw BackendError(FailureKind::EngineUnreachable,
                           "cannot reach the Docker engine at " + dockerHost_ + ": " + e.displayText());
    }
}

void EngineClient::call(const EngineRequest& request, std::chrono::seconds timeout,
                        const std::function<void(const std::string&)>& onLine) const {
    const Clock::time_point deadlineAt = Clock::now() + timeout;
    const std::string timedOut =
        "timed out after " + std::to_string(timeout.count()) + " s talking to the Docker engine at " + dockerHost_;

    // The session is given a connected socket (Poco cannot dial a unix socket
    // itself) and, with no host of its own, never reconnects elsewhere.
    Poco::Net::HTTPClientSession session(connect(timeout));
    const Deadline deadline(*calls_, session.socket(), deadlineAt);

    Poco::Net::HTTPRequest httpRequest(request.method, request.target, Poco::Net::HTTPMessage::HTTP_1_1);
    // Go's HTTP server refuses a request without Host; over a unix socket any name does.
    if (endpoint_.socketPath.empty()) {
        httpRequest.setHost(endpoint_.host, endpoint_.port);
    } else {
        httpRequest.setHost("docker");
    }
    for (const auto& [name, value] : request.headers) httpRequest.set(name, value);
    if (request.body) {
        httpRequest.setChunkedTransferEncoding(true);
    } else if (request.method == Poco::Net::HTTPRequest::HTTP_POST) {
        httpRequest.setContentLength(0);
    }

    try {
        std::ostream& body = session.sendRequest(httpRequest);
        if (request.body) request.body(body);

        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        if (response.getStatus() < 200 || response.getStatus() > 299) {
            std::string text(64 * 1024, '\0');  // an error body is short; never read an endless one
            in.read(text.data(), static_cast<std::streamsize>(text.size()));
            text.resize(static_cast<std::size_t>(in.gcount()));
            // The status line is part of what decides the kind: a 5xx from a
            // proxy in front of the engine is an outage like any other.
            const std::string answered = std::to_string(response.getStatus()) + " " + response.getReason() + ": " +
                                         messageOf(text);
            throw BackendError(failureKindOf(answered),
                               "the Docker engine at " + dockerHost_ + " answered " + answered);
        }
        for (std::string line; std::getline(in, line);) {
            if (onLine) onLine(line);
        }
        if (in.bad() && !deadline.expired()) {
            throw BackendError(FailureKind::EngineUnreachable, "lost the Docker engine at " + dockerHost_ + ": " +
                               (session.networkException() ? session.networkException()->displayText()
                                                           : std::string("the answer broke off")));
        }
    } catch (const BackendError&) {
        if (deadline.expired()) throw BackendError(timedOut);
        throw;
    } catch (const Poco::Exception& e) {
        if (deadline.expired()) throw BackendError(timedOut);
        throw BackendError(FailureKind::EngineUnreachable, "lost the Docker engine at " + dockerHost_ + ": " + e.displayText());
    } catch (const std::exception&) {
        // The body writer failed; when it was the connection, say so rather than what the writer saw.
        if (deadline.expired()) throw BackendError(timedOut);
        if (session.networkException()) {
            throw BackendError(FailureKind::EngineUnreachable, "lost the Docker engine at " + dockerHost_ + ": " +
                               session.networkException()->displayText());
        }
        throw;
    }
    if (deadline.expired()) throw BackendError(timedOut);
}

}  // namespace slipway
