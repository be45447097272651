#include "daemon/http/front_door.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <optional>

#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <openssl/err.h>

#include "daemon/http/exchange.h"

namespace slipway {
namespace {

using Clock = std::chrono::steady_clock;
using Poco::Net::HTTPResponse;
using Poco::Net::PollSet;

// How often the loop looks at the deadlines when nothing else wakes it.
constexpr std::chrono::milliseconds kSweepInterval{250};
// One receive; a webhook of 24 KB arrives in one.
constexpr std::size_t kReadChunk = 65536;
// Connections taken off the listener per wake-up, so that a flood of them
// does not starve the requests already open.
constexpr int kAcceptsPerWakeUp = 64;
// How long a refused request's connection is still read (and what comes
// discarded) after the refusal, so that the client reads the refusal rather
// than a reset (RFC 9112, section 9.6).
constexpr std::chrono::milliseconds kLinger{2000};
constexpr int kLingerChunksPerRead = 4;
// Connections one sweep deals with before the loop serves the others again:
// closing 6,000 at once held every delivery up for ~70 ms.
constexpr std::size_t kDuePerSweep = 256;

bool wouldBlock(const Poco::Exception& e) { return e.code() == EAGAIN || e.code() == EWOULDBLOCK; }

}  // namespace

struct FrontDoor::Connection {
    // Idle: between requests (a fresh connection too); Lingering: refused,
    // its answer written and its sending side shut, what comes is discarded.
    enum class Phase { Idle, Head, Body, Handling, Writing, Lingering };

    Connection(Poco::Net::StreamSocket io, const Poco::Net::SocketAddress& from, bool secure)
        : socket(std::move(io)), fd(static_cast<int>(socket.impl()->sockfd())), peer(from), tls(secure) {}

    Poco::Net::StreamSocket socket;  // plain, or TLS over it
    const int fd;
    const Poco::Net::SocketAddress peer;
    const bool tls;

    // The loop's while withWorker is false; while it is true, the handler's
    // (on a worker, or on the loop), then the thread's that finishes its
    // answer (see Exchange).
    Phase phase = Phase::Idle;
    std::string in;                   // received, not yet answered
    std::optional<RequestHead> head;  // of the request whose body is arriving
    std::string out;                  // answer bytes still to write
    std::size_t outSent = 0;
    bool closeAfterWrite = false;
    bool closed = false;
    bool broken = false;         // its answer could not be finished: closed at once
    bool tlsWantsWrite = false;  // the handshake waits to write: the loop polls for writing too
    bool begun = false;          // counted in busy_: a request has begun to arrive and is not yet answered
    std::size_t buffered = 0;    // counted in buffered_
    std::size_t handed = 0;      // counted in handed_
    Clock::time_point deadline;  // of the phase
    Clock::time_point lastActivity;
    Clock::time_point requestStarted;
    std::atomic<bool> withWorker{false};
    // Whether the socket is in the poll set. A request handed over leaves it
    // there (taking it out and putting it back was two epoll_ctl calls a
    // request); the loop takes it out only if it reports the socket while
    // the request is away, and whoever finishes the answer puts it back if
    // so. Those two decide under `pollMutex`; otherwise `polled` is the
    // loop's, like the fields above.
    bool polled = false;
    int pollMode = 0;  // what it is in the set for, while polled
    std::mutex pollMutex;

    // Bytes sent, 0 when the socket takes none now; throws when the connection is broken.
    std::size_t sendSome(const char* data, std::size_t size) {
        // Poco 1.11 leaves OpenSSL's error queue as it found it, and one
        // thread runs many connections' TLS: an error left by one must not
        // be read as another's.
        if (tls) ERR_clear_error();
        try {
            const int chunk = static_cast<int>(std::min<std::size_t>(size, 1u << 20));
            const int sent = socket.sendBytes(data, chunk, tls ? 0 : MSG_NOSIGNAL);
            return sent < 0 ? 0 : static_cast<std::size_t>(sent);  // TLS: wants to read or write first
        } catch (const Poco::Exception& e) {
            if (wouldBlock(e)) return 0;
            throw;
        }
    }
};

// A streamed answer's writes, from the worker that runs its handler: they
// wait for the client, each for at most the idle timeout.
class FrontDoor::Sink final : public AnswerSink {
public:
    Sink(Connection& connection, std::chrono::milliseconds timeout) : connection_(connection), timeout_(timeout) {}

    bool write(std::string_view bytes) override {
        auto deadline = Clock::now() + timeout_;
        try {
            while (!bytes.empty()) {
                const std::size_t sent = connection_.sendSome(bytes.data(), bytes.size());
                if (sent > 0) {
                    bytes.remove_prefix(sent);
                    deadline = Clock::now() + timeout_;
                    continue;
                }
                const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
                if (left.count() <= 0) return false;
                connection_.socket.poll(Poco::Timespan(left.count()), Poco::Net::Socket::SELECT_WRITE);
            }
        } catch (const Poco::Exception&) {
            return false;
        }
        return true;
    }

    bool connected() override {
        // POLLRDHUP: the client shut its side (Poco's poll has no such mode).
        pollfd state{connection_.fd, POLLRDHUP, 0};
        if (::poll(&state, 1, 0) < 0) return true;
        return (state.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0;
    }

private:
    Connection& connection_;
    const std::chrono::milliseconds timeout_;
};

FrontDoor::FrontDoor(Poco::Net::ServerSocket listener, Poco::Net::Context::Ptr tls, FrontDoorSettings settings,
                     ServeRequest serve)
    : listener_(std::move(listener)),
      tls_(std::move(tls)),
      settings_(std::move(settings)),
      serve_(std::move(serve)),
      local_(listener_.address()),
      wakeUp_(Poco::Net::SocketAddress("127.0.0.1", 0)),
      wakeUpAddress_(wakeUp_.address()) {
    wakeUp_.setBlocking(false);
}

FrontDoor::~FrontDoor() { stop(); }

void FrontDoor::start() {
    listener_.setBlocking(false);
    polls_.add(listener_, PollSet::POLL_READ);
    polls_.add(wakeUp_, PollSet::POLL_READ);
    for (unsigned i = 0; i < settings_.workers; ++i) workers_.emplace_back([this] { work(); });
    loopThread_ = std::thread([this] { loop(); });
}

void FrontDoor::stopAccepting() {
    closing_ = true;
    std::unique_lock<std::mutex> lock(mutex_);
    if (!loopThread_.joinable()) return;
    stopAcceptingAsked_ = true;
    lock.unlock();
    wake();
    lock.lock();
    changed_.wait(lock, [this] { return acceptStopped_; });
}

bool FrontDoor::drain(std::chrono::milliseconds timeout) {
    wake();  // the loop closes the idle connections at once
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return busy_.load() == 0; });
}

void FrontDoor::stop() {
    {
        std::lock_guard<std::mutex> lock(workMutex_);
        if (workersStopping_) return;
        workersStopping_ = true;
    }
    workReady_.notify_all();
    // The workers first: the loop closes every socket when it ends, and a
    // worker still writing to one must not write to its number reused.
    for (std::thread& worker : workers_) worker.join();
    {
        // Answers finished later too (a webhook's, once its commit ends):
        // they write to their sockets and call on this object. The loop may
        // still run a handler: none begins from now on.
        std::unique_lock<std::mutex> lock(mutex_);
        exchangesRefused_ = true;
        changed_.wait(lock, [this] { return exchanges_ == 0; });
        stopping_ = true;
    }
    wake();
    if (loopThread_.joinable()) loopThread_.join();
}

FrontDoorCounts FrontDoor::counts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    FrontDoorCounts counts = counts_;
    counts.buffered = bufferedNow_.load(std::memory_order_relaxed) + handed_.load(std::memory_order_relaxed);
    return counts;
}

void FrontDoor::wake() {
    if (wakePending_.exchange(true)) return;
    try {
        wakeUp_.sendTo("w", 1, wakeUpAddress_);
    } catch (const Poco::Exception& e) {
        // The loop still sees the work at its next sweep; the next wake tries again.
        wakePending_ = false;
        Poco::Logger::get("slipway").warning("cannot wake the HTTP loop: " + e.displayText());
    }
}

void FrontDoor::loop() {
    Poco::Logger& log = Poco::Logger::get("slipway");
    bool sweepAgain = false;  // the last sweep left connections past their deadline
    while (true) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;
            if (stopAcceptingAsked_ && accepting_) {
                accepting_ = false;
                try {
                    if (!acceptPaused_) polls_.remove(listener_);
                } catch (const Poco::Exception&) {
                    // Not in the set: nothing to take out.
                }
                acceptStopped_ = true;
                changed_.notify_all();
            }
        }
        PollSet::SocketModeMap ready;
        try {
            const auto wait = sweepAgain ? std::chrono::microseconds(0) : std::chrono::microseconds(kSweepInterval);
            ready = polls_.poll(Poco::Timespan(wait.count()));
        } catch (const Poco::Exception& e) {
            log.error("HTTP loop: " + e.displayText());
            continue;
        }
        const auto now = Clock::now();
        for (const auto& [socket, mode] : ready) {
            if (socket == listener_) {
                try {
                    acceptAll(now);
                } catch (const std::exception& e) {
                    log.error(std::string("HTTP loop, accepting: ") + e.what());
                }
                continue;
            }
            if (socket == wakeUp_) {
                // Cleared before the returned connections are taken: a
                // worker that gives one back after this sends another datagram.
                wakePending_ = false;
                char drained[16];
                try {
                    while (wakeUp_.receiveBytes(drained, sizeof drained) > 0) {
                    }
                } catch (const Poco::Exception&) {
                }
                continue;
            }
            const auto found = connections_.find(static_cast<int>(socket.impl()->sockfd()));
            if (found == connections_.end()) continue;
            const ConnectionPtr connection = found->second;
            if (connection->withWorker.load(std::memory_order_acquire)) {
                std::lock_guard<std::mutex> lock(connection->pollMutex);
                if (connection->withWorker.load(std::memory_order_acquire)) {
                    // It sent more (or closed) while its request is away: out
                    // of the set until the answer is finished, or its event,
                    // level-triggered, would come back every pass.
                    try {
                        unwatch(*connection);
                    } catch (const Poco::Exception& e) {
                        log.error("HTTP connection from " + connection->peer.toString() + ": " + e.displayText());
                    }
                    continue;
                }
                // Its answer was finished meanwhile: the connection is the loop's again.
            }
            try {
                if (connection->phase == Connection::Phase::Writing && !connection->tlsWantsWrite) {
                    writeTo(connection, now);
                } else {
                    readFrom(connection, now);
                }
            } catch (const std::exception& e) {
                // The poll set refused a change, or memory ran out: this
                // connection goes, the others stay served.
                log.error("HTTP connection from " + connection->peer.toString() + ": " + e.what());
                close(connection, std::nullopt);
            }
        }
        try {
            takeReturned(now);
            if (sweepAgain || now - lastSweep_ >= kSweepInterval) {
                sweepAgain = false;
                lastSweep_ = now;
                sweepAgain = sweep(now);
            }
        } catch (const std::exception& e) {
            log.error(std::string("HTTP loop: ") + e.what());
        }
    }
    std::vector<ConnectionPtr> all;
    for (const auto& [fd, connection] : connections_) all.push_back(connection);
    for (const ConnectionPtr& connection : all) close(connection, std::nullopt);
}

void FrontDoor::acceptAll(Clock::time_point now) {
    for (int taken = 0; taken < kAcceptsPerWakeUp; ++taken) {
        Poco::Net::StreamSocket socket;
        Poco::Net::SocketAddress peer;
        try {
            socket = listener_.acceptConnection(peer);
        } catch (const Poco::Exception& e) {
            if (wouldBlock(e)) return;
            if (e.code() == EMFILE || e.code() == ENFILE) {
                // Out of file descriptors: make room, or wait for a close
                // (the listener would otherwise wake the loop at once, forever).
                if (!evictIdlest()) {
                    polls_.remove(listener_);
                    acceptPaused_ = true;
                    if (fdShortageLogged_) return;
                    fdShortageLogged_ = true;
                    Poco::Logger::get("slipway").warning(
                        "out of file descriptors with " + std::to_string(connections_.size()) +
                        " connections open: accepting again when one closes (raise LimitNOFILE, or lower "
                        "server.max_connections)");
                }
                return;
            }
            // ECONNABORTED and the like: the client's doing, at the client's
            // rate; not worth a log line each.
            return;
        }
        if (connections_.size() >= settings_.maxConnections && !evictIdlest()) {
            // Every connection has a request being answered.
            socket.close();
            std::lock_guard<std::mutex> lock(mutex_);
            ++counts_.closed[static_cast<int>(Closed::Evicted)];
            continue;
        }
        try {
            socket.setBlocking(false);
            socket.setNoDelay(true);
            Poco::Net::StreamSocket io = socket;
            // OpenSSL's handshake then happens in the first receives, never blocking.
            if (tls_) io = Poco::Net::SecureStreamSocket::attach(socket, tls_);
            fdShortageLogged_ = false;
            auto connection = std::make_shared<Connection>(io, peer, tls_ != nullptr);
            // A request is on its way (perhaps behind a TLS handshake): a
            // stop waits for it, and its header deadline runs from now.
            connection->deadline = now + settings_.headerTimeout;
            connection->lastActivity = now;
            setBegun(*connection, true);
            connections_[connection->fd] = connection;
            watch(*connection, PollSet::POLL_READ);
            std::lock_guard<std::mutex> lock(mutex_);
            counts_.open = connections_.size();
        } catch (const Poco::Exception& e) {
            Poco::Logger::get("slipway").warning("setting up a connection from " + peer.toString() + ": " +
                                                 e.displayText());
        }
    }
}

bool FrontDoor::evictIdlest() {
    ConnectionPtr idlest;
    for (const auto& [fd, connection] : connections_) {
        if (connection->withWorker.load(std::memory_order_acquire)) continue;
        if (!idlest || connection->lastActivity < idlest->lastActivity) idlest = connection;
    }
    if (!idlest) return false;
    close(idlest, Closed::Evicted);
    return true;
}

void FrontDoor::readFrom(const ConnectionPtr& connection, Clock::time_point now) {
    Connection& c = *connection;
    if (c.tlsWantsWrite) {
        c.tlsWantsWrite = false;
        watch(c, PollSet::POLL_READ);
    }
    char chunk[kReadChunk];
    int discarded = 0;
    while (true) {
        int received = 0;
        if (c.tls) ERR_clear_error();  // see sendSome
        try {
            received = c.socket.receiveBytes(chunk, sizeof chunk);
        } catch (const Poco::Exception&) {
            close(connection, std::nullopt);  // reset, or a TLS error
            return;
        }
        if (c.phase == Connection::Phase::Lingering) {
            // Discarded, a few chunks at a time: a sender faster than the
            // loop reads must not keep it from the others.
            if (received == 0) close(connection, std::nullopt);
            if (received <= 0 || ++discarded == kLingerChunksPerRead) return;
            continue;
        }
        if (received == 0) {
            // The client closed its side. One that did so mid-request may
            // still read why it gets nothing (not a bad signature, which
            // would send the operator after the secret).
            if (c.phase == Connection::Phase::Body) {
                refuse(connection, {HTTPResponse::HTTP_BAD_REQUEST, "body cut short",
                                    "the body ended after " + std::to_string(c.in.size()) + " of the " +
                                        std::to_string(c.head->contentLength) + " bytes its Content-Length announced"},
                       Closed::Framing, now);
            } else if (!c.in.empty()) {
                refuse(connection, {HTTPResponse::HTTP_BAD_REQUEST, "header cut short",
                                    "the connection ended before the header block's empty line"},
                       Closed::Framing, now);
            } else {
                close(connection, std::nullopt);
            }
            return;
        }
        if (received == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE) {
            c.tlsWantsWrite = true;  // a handshake message did not fit the socket
            watch(c, PollSet::POLL_READ | PollSet::POLL_WRITE);
            break;
        }
        if (received < 0) break;  // nothing more now
        if (c.in.empty() && c.phase == Connection::Phase::Idle) c.requestStarted = now;  // before any shedding
        c.in.append(chunk, static_cast<std::size_t>(received));
        c.lastActivity = now;
        countBuffered(c);
        if (c.closed) return;
        advance(connection, now);
        // Handed to a worker, or its answer still to come: no longer the loop's to look at.
        if (c.withWorker.load(std::memory_order_acquire) || c.closed) return;
        if (c.phase != Connection::Phase::Head && c.phase != Connection::Phase::Body) break;
    }
}

void FrontDoor::advance(const ConnectionPtr& connection, Clock::time_point now) {
    Connection& c = *connection;
    if (c.phase == Connection::Phase::Idle) {
        // Empty lines before a request line are allowed (RFC 9112, section 2.2).
        const std::size_t start = c.in.find_first_not_of("\r\n");
        c.in.erase(0, start == std::string::npos ? c.in.size() : start);
        if (c.in.empty()) return;
        c.phase = Connection::Phase::Head;
        c.requestStarted = now;
        // A fresh connection's deadline runs from its accept, a kept-alive one's from this first byte.
        if (!c.begun) c.deadline = now + settings_.headerTimeout;
        setBegun(c, true);
    }
    if (c.phase == Connection::Phase::Head) {
        if (c.in.empty()) return;
        const std::size_t end = headerBlockEnd(c.in);
        if (end == std::string::npos ? c.in.size() > settings_.maxHeaderBytes : end > settings_.maxHeaderBytes) {
            refuse(connection, {HTTPResponse::HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "header fields too large",
                                "the header block is over " + std::to_string(settings_.maxHeaderBytes) + " bytes"},
                   Closed::Framing, now);
            return;
        }
        if (end == std::string::npos) return;
        auto framed = frameRequest(std::string_view(c.in).substr(0, end), settings_.bodyLimit);
        if (auto* refusal = std::get_if<FramingRefusal>(&framed)) {
            refuse(connection, *refusal, Closed::Framing, now);
            return;
        }
        c.head = std::move(std::get<RequestHead>(framed));
        c.in.erase(0, end);
        c.phase = Connection::Phase::Body;
        c.deadline = now + settings_.bodyTimeout;
        if (c.head->expectContinue && c.in.size() < c.head->contentLength) {
            static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            try {
                // Too short to be cut by a socket with room for nothing else.
                if (c.sendSome(kContinue.data(), kContinue.size()) != kContinue.size()) {
                    close(connection, std::nullopt);
                    return;
                }
            } catch (const Poco::Exception&) {
                close(connection, std::nullopt);
                return;
            }
        }
    }
    if (c.phase == Connection::Phase::Body && c.in.size() >= c.head->contentLength) {
        // Still held until the worker is done with it: counted on as handed over.
        handed_ += c.in.size();
        c.handed = c.in.size();
        setBuffered(c, 0);
        c.phase = Connection::Phase::Handling;
        c.withWorker.store(true, std::memory_order_release);  // its socket stays in the set: see `polled`
        if (settings_.answeredOnTheLoop && c.head->contentLength <= settings_.loopBodyBytes) {
            const std::string& target = c.head->request.getURI();
            if (settings_.answeredOnTheLoop(c.head->request.getMethod(), target.substr(0, target.find('?')))) {
                answer(connection);  // the same as a worker's, answered now or by a hold's last release
                return;
            }
        }
        {
            std::lock_guard<std::mutex> lock(workMutex_);
            work_.push_back(connection);
        }
        workReady_.notify_one();
    }
}

void FrontDoor::refuse(const ConnectionPtr& connection, const FramingRefusal& refusal, Closed reason,
                       Clock::time_point now) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++counts_.closed[static_cast<int>(reason)];
    }
    connection->in.clear();
    queueAnswer(connection, refusalAnswer(refusal), true, now);
}

void FrontDoor::queueAnswer(const ConnectionPtr& connection, std::string bytes, bool closeAfter, Clock::time_point now) {
    Connection& c = *connection;
    setBuffered(c, 0);
    c.out = std::move(bytes);
    c.outSent = 0;
    c.closeAfterWrite = closeAfter;
    c.phase = Connection::Phase::Writing;
    c.deadline = now + settings_.idleTimeout;
    writeTo(connection, now);
}

void FrontDoor::writeTo(const ConnectionPtr& connection, Clock::time_point now) {
    Connection& c = *connection;
    try {
        while (c.outSent < c.out.size()) {
            const std::size_t sent = c.sendSome(c.out.data() + c.outSent, c.out.size() - c.outSent);
            if (sent == 0) {
                watch(c, PollSet::POLL_WRITE);
                return;
            }
            c.outSent += sent;
            c.deadline = now + settings_.idleTimeout;
            c.lastActivity = now;
        }
    } catch (const Poco::Exception&) {
        close(connection, std::nullopt);
        return;
    }
    std::string().swap(c.out);  // its capacity too: an idle connection holds nothing
    c.outSent = 0;
    if (c.closeAfterWrite) {
        linger(connection, now);
        return;
    }
    c.phase = Connection::Phase::Idle;
    setBegun(c, false);
    c.deadline = now + settings_.idleTimeout;
    watch(c, PollSet::POLL_READ);
    if (!c.in.empty()) {
        // A request sent before this answer was read: counted as buffered
        // again (it stopped counting as handed over with the answer), or a
        // partial one pipelined on each connection would escape the limit.
        c.requestStarted = now;
        countBuffered(c);
        if (c.closed) return;
    }
    advance(connection, now);
}

void FrontDoor::takeReturned(Clock::time_point now) {
    std::vector<ConnectionPtr> returned;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        returned.swap(returned_);
    }
    for (const ConnectionPtr& connection : returned) {
        connection->withWorker.store(false, std::memory_order_release);
        try {
            if (connection->broken) {
                close(connection, std::nullopt);
                continue;
            }
            connection->phase = Connection::Phase::Writing;
            connection->deadline = now + settings_.idleTimeout;
            writeTo(connection, now);  // lingers after the last byte when the answer said close
        } catch (const std::exception& e) {
            Poco::Logger::get("slipway").error("HTTP connection from " + connection->peer.toString() + ": " + e.what());
            close(connection, std::nullopt);
        }
    }
}

bool FrontDoor::sweep(Clock::time_point now) {
    // Out of file descriptors held by something else than connections: try again.
    resumeAccepting();
    std::vector<ConnectionPtr> due;
    bool more = false;
    for (const auto& [fd, connection] : connections_) {
        if (connection->withWorker.load(std::memory_order_acquire)) continue;
        const bool idle = connection->phase == Connection::Phase::Idle && !connection->begun;
        if (now < connection->deadline && !(idle && closing_)) continue;
        if (due.size() == kDuePerSweep) {
            more = true;
            break;
        }
        due.push_back(connection);
    }
    for (const ConnectionPtr& connection : due) {
        try {
            expire(connection, now);
        } catch (const std::exception& e) {
            Poco::Logger::get("slipway").error("HTTP connection from " + connection->peer.toString() + ": " + e.what());
            close(connection, std::nullopt);
        }
    }
    return more;
}

void FrontDoor::expire(const ConnectionPtr& connection, Clock::time_point now) {
    {
        switch (connection->phase) {
            case Connection::Phase::Head:
                // Closed without a word, as nginx does: a header this slow is
                // rarely a client that would read one, and thousands of them
                // would each cost a write.
                close(connection, Closed::HeaderTimeout);
                break;
            case Connection::Phase::Body:
                refuse(connection, {HTTPResponse::HTTP_REQUEST_TIMEOUT, "request too slow",
                                    "the body did not arrive within server.request_timeout"},
                       Closed::BodyTimeout, now);
                break;
            case Connection::Phase::Idle:
                // A fresh connection that never sent a byte is a header that did not come.
                if (connection->begun) {
                    close(connection, Closed::HeaderTimeout);
                } else {
                    close(connection, now >= connection->deadline ? std::optional<Closed>(Closed::Idle) : std::nullopt);
                }
                break;
            case Connection::Phase::Lingering:
                close(connection, std::nullopt);
                break;
            case Connection::Phase::Writing:  // the client takes no more of its answer
                close(connection, Closed::Idle);
                break;
            case Connection::Phase::Handling:
                break;
        }
    }
}

void FrontDoor::resumeAccepting() {
    if (!acceptPaused_ || !accepting_) return;
    polls_.add(listener_, PollSet::POLL_READ);
    acceptPaused_ = false;
}

void FrontDoor::linger(const ConnectionPtr& connection, Clock::time_point now) {
    Connection& c = *connection;
    try {
        if (c.tls) {
            // Poco's shutdownSend does nothing over TLS: close_notify
            // (SSL_shutdown, which does not wait on a non-blocking socket),
            // then the TCP FIN underneath.
            c.socket.shutdown();
            ::shutdown(c.fd, SHUT_WR);
        } else {
            c.socket.shutdownSend();
        }
    } catch (const Poco::Exception&) {
        close(connection, std::nullopt);
        return;
    }
    c.phase = Connection::Phase::Lingering;
    c.deadline = now + kLinger;
    std::string().swap(c.in);
    setBuffered(c, 0);
    setBegun(c, false);
    watch(c, PollSet::POLL_READ);
}

void FrontDoor::shedBuffers() {
    // Whatever it is, a request still arriving has not been authenticated
    // (a webhook's signature covers its whole body): the one that has been
    // arriving longest goes first, which a client that sends its request at
    // once never is. While the workers alone hold more than the limit
    // (large bodies queued behind busy workers), every request still
    // arriving goes: memory stays bounded, at the cost of those senders.
    while (buffered_ + handed_.load() > settings_.maxBufferedBytes) {
        ConnectionPtr oldest;
        for (const auto& [fd, connection] : connections_) {
            if (connection->withWorker.load(std::memory_order_acquire) || connection->buffered == 0) continue;
            if (!oldest || connection->requestStarted < oldest->requestStarted) oldest = connection;
        }
        if (!oldest) return;
        close(oldest, Closed::Buffers);
    }
}

void FrontDoor::countBuffered(Connection& c) {
    setBuffered(c, c.in.size());
    if (buffered_ + handed_.load() > settings_.maxBufferedBytes) shedBuffers();
}

void FrontDoor::setBuffered(Connection& c, std::size_t bytes) {
    buffered_ = buffered_ - c.buffered + bytes;
    c.buffered = bytes;
    bufferedNow_.store(buffered_, std::memory_order_relaxed);
}

void FrontDoor::setBegun(Connection& c, bool begun) {
    if (c.begun == begun) return;
    c.begun = begun;
    if (begun) {
        ++busy_;
    } else if (--busy_ == 0) {
        // Under the lock drain() checks busy_ with: it cannot miss this.
        std::lock_guard<std::mutex> lock(mutex_);
        changed_.notify_all();
    }
}

void FrontDoor::watch(Connection& c, int mode) {
    if (c.polled && c.pollMode == mode) return;
    polls_.add(c.socket, mode);  // or changes its mode, when it is in the set already
    c.polled = true;
    c.pollMode = mode;
}

void FrontDoor::unwatch(Connection& c) {
    if (!c.polled) return;
    polls_.remove(c.socket);
    c.polled = false;
}

void FrontDoor::close(const ConnectionPtr& connection, std::optional<Closed> reason) {
    Connection& c = *connection;
    if (c.closed) return;
    c.closed = true;
    handed_ -= c.handed;  // handed over and not taken: an exception between the two
    c.handed = 0;
    try {
        unwatch(c);
    } catch (const Poco::Exception&) {
        // The set refused (it should not): the socket is closed all the same.
    }
    setBuffered(c, 0);
    setBegun(c, false);
    connections_.erase(c.fd);
    {
        // Counted before the client can see the close.
        std::lock_guard<std::mutex> lock(mutex_);
        if (reason) ++counts_.closed[static_cast<int>(*reason)];
        counts_.open = connections_.size();
    }
    try {
        c.socket.close();
    } catch (const Poco::Exception&) {
        // A TLS close_notify that could not be sent: the socket is closed anyway.
    }
    resumeAccepting();
}

void FrontDoor::work() {
    while (true) {
        ConnectionPtr connection;
        {
            std::unique_lock<std::mutex> lock(workMutex_);
            workReady_.wait(lock, [this] { return workersStopping_ || !work_.empty(); });
            if (work_.empty()) return;
            connection = std::move(work_.front());
            work_.pop_front();
        }
        answer(connection);
    }
}

// One request's handling: what its handler reads and writes. The worker
// holds it while the handler runs, and a handler that answers later
// (BufferedResponse::answerLater) holds it from another thread; the answer
// goes out when the exchange ends, with the last hold released.
struct FrontDoor::Exchange {
    Exchange(FrontDoor& frontDoor, ConnectionPtr with, RequestHead& head, std::string body, bool keepAlive)
        : door(frontDoor),
          connection(std::move(with)),
          method(head.request.getMethod()),
          uri(head.request.getURI()),
          sink(*connection, door.settings_.idleTimeout),
          response(head.request.getVersion(), method == "HEAD", keepAlive, sink),
          request(head, std::move(body), connection->peer, door.local_, connection->tls, response) {
        std::lock_guard<std::mutex> lock(door.mutex_);
        // stop() has counted the exchanges down to none: the loop, which
        // still runs handlers then, must not begin another.
        if (door.exchangesRefused_) throw std::runtime_error("the front door is stopping");
        ++door.exchanges_;
    }

    ~Exchange() {
        door.finish(connection, *this);
        std::lock_guard<std::mutex> lock(door.mutex_);
        if (--door.exchanges_ == 0) door.changed_.notify_all();
    }

    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    FrontDoor& door;
    const ConnectionPtr connection;
    const std::string method;
    const std::string uri;
    Sink sink;
    BufferedResponse response;
    BufferedRequest request;
    bool failed = false;  // the handler threw
};

void FrontDoor::answer(const ConnectionPtr& connection) {
    Connection& c = *connection;
    RequestHead head = std::move(*c.head);
    c.head.reset();
    std::string body;
    if (c.in.size() == head.contentLength) {
        body.swap(c.in);  // nothing pipelined behind it: no copy
    } else {
        body = c.in.substr(0, head.contentLength);
        c.in = c.in.substr(head.contentLength);  // not the body's capacity, kept for the connection's life
    }
    std::shared_ptr<Exchange> exchange;
    try {
        exchange = std::make_shared<Exchange>(*this, connection, head, std::move(body), head.keepAlive && !closing_);
    } catch (const std::exception& e) {
        // Out of memory for the request, or the front door stopping: the
        // connection goes, before anything else is asked of the memory.
        c.broken = true;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            returned_.push_back(connection);
        }
        wake();
        try {
            Poco::Logger::get("slipway").error("answering a request from " + c.peer.toString() + ": " + e.what());
        } catch (...) {
            // Not even the log line: the closed connection says enough.
        }
        return;
    }
    exchange->response.holdAnswersWith(exchange);
    // Nothing may leave here once the exchange exists (on the loop, an
    // exception would close the connection under its pending answer).
    const auto failed = [&exchange](const char* why) noexcept {
        exchange->failed = true;
        try {
            Poco::Logger::get("slipway").error("answering " + exchange->method + " " + exchange->uri + ": " + why);
        } catch (...) {
            // Out of memory: the 500 still goes out.
        }
    };
    try {
        serve_(exchange->request, exchange->response);
    } catch (const std::exception& e) {
        failed(e.what());
    } catch (...) {
        failed("an exception that is not a std::exception");
    }
}

void FrontDoor::finish(const ConnectionPtr& connection, Exchange& exchange) noexcept {
    Connection& c = *connection;
    BufferedResponse& response = exchange.response;
    std::string rest;
    bool broken = false;
    bool keepAlive = false;
    try {
        if (exchange.failed || (response.answeredLater() && !response.sent())) {
            if (!exchange.failed) {
                Poco::Logger::get("slipway").error("answering " + exchange.method + " " + exchange.uri +
                                                   ": the handler left without an answer");
            }
            // What went out already cannot be taken back; otherwise a 500 says so.
            broken = response.broken() || response.streaming();
            if (!broken) {
                rest = refusalAnswer(
                    {HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal error", "see the log of slipwayd"});
            }
        } else {
            broken = response.broken();
            if (!broken) rest = response.finish();
            keepAlive = response.getKeepAlive();
        }
    } catch (const std::exception&) {
        broken = true;  // out of memory for the answer
    }

    std::size_t written = 0;
    try {
        while (!broken && written < rest.size()) {
            const std::size_t sent = c.sendSome(rest.data() + written, rest.size() - written);
            if (sent == 0) break;
            written += sent;
        }
    } catch (const Poco::Exception&) {
        broken = true;
    }
    handed_ -= c.handed;
    c.handed = 0;
    const auto now = Clock::now();
    if (!broken && keepAlive && written == rest.size() && c.in.empty()) {
        // The common case, without a trip through the loop: wait for the next request.
        c.phase = Connection::Phase::Idle;
        c.deadline = now + settings_.idleTimeout;
        c.lastActivity = now;
        setBegun(c, false);
        try {
            std::lock_guard<std::mutex> lock(c.pollMutex);
            watch(c, PollSet::POLL_READ);  // back in the set, if the loop took it out meanwhile
            c.withWorker.store(false, std::memory_order_release);
            return;
        } catch (const Poco::Exception&) {
            broken = true;
        }
    }
    try {
        c.out = broken ? std::string() : rest.substr(written);
    } catch (const std::exception&) {
        broken = true;
    }
    c.broken = broken;
    c.closeAfterWrite = !keepAlive;
    c.lastActivity = now;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        returned_.push_back(connection);
    }
    wake();
}

}  // namespace slipway
