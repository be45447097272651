#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Net/ServerSocket.h>

#include "daemon/http/exchange.h"
#include "daemon/http/request_framing.h"

namespace slipway {

// The limits a public endpoint holds (README: "Limits of the front door").
struct FrontDoorSettings {
    std::chrono::milliseconds headerTimeout{10000};  // the whole header block, from its first byte (or the accept)
    std::chrono::milliseconds bodyTimeout{10000};    // the whole body, from the end of the header block
    std::chrono::milliseconds idleTimeout{60000};    // a kept-alive connection between requests; an answer's progress
    std::size_t maxConnections = 8192;               // beyond it, the longest idle connection is closed
    std::size_t maxBufferedBytes = 64u << 20;        // of requests, until answered, over all connections
    std::size_t maxHeaderBytes = 16384;              // one header block
    unsigned workers = 64;                           // threads that answer complete requests
    BodyLimit bodyLimit;                             // by method and path
    // Requests whose handler never waits (on a disk, a lock held long,
    // another host) and never streams, by method and path: the loop answers
    // one of those itself when its body is at most `loopBodyBytes`, so that
    // its cost is bounded, instead of handing it to a worker (a wake-up and a
    // sleep per request, about a quarter of a webhook's CPU). Null: none.
    std::function<bool(const std::string& method, const std::string& path)> answeredOnTheLoop;
    std::size_t loopBodyBytes = 65536;
};

// Why the front door closed a connection it had not been asked to close,
// for /metrics. Each is counted once per connection.
enum class Closed { HeaderTimeout, BodyTimeout, Idle, Evicted, Framing, Buffers, Count };

// What the front door has counted, for /metrics.
struct FrontDoorCounts {
    std::size_t open = 0;
    std::size_t buffered = 0;  // bytes of requests still arriving
    std::size_t closed[static_cast<int>(Closed::Count)] = {};
};

// Answers one complete request, before it returns or later (see
// BufferedResponse::answerLater); may throw (the answer is then 500, or the
// connection is closed when part of it went out already).
using ServeRequest = std::function<void(BufferedRequest&, BufferedResponse&)>;

// slipwayd's HTTP server. One thread holds every connection in an epoll set
// (Poco's PollSet) and reads into a buffer per connection until a request
// has arrived whole, header and body, within its deadlines; only then does a
// worker thread answer it (or the loop itself, for a small request whose
// handler never waits: see answeredOnTheLoop). A client sending a byte now and then costs a
// file descriptor and a few hundred bytes, never a thread: Poco's
// HTTPServer held a thread per connection, so 128 such clients shut
// everyone else out. TLS is OpenSSL over the same non-blocking sockets
// (Poco's SecureStreamSocket, which answers "want read" rather than block).
class FrontDoor {
public:
    // `tls`: null for plain HTTP. `listener` may be a socket systemd passed.
    FrontDoor(Poco::Net::ServerSocket listener, Poco::Net::Context::Ptr tls, FrontDoorSettings settings,
              ServeRequest serve);
    ~FrontDoor();
    FrontDoor(const FrontDoor&) = delete;
    FrontDoor& operator=(const FrontDoor&) = delete;

    void start();
    // Accepts no more connections (they wait in the listener's backlog) and
    // answers "Connection: close" from now on. Returns once the loop has
    // stopped accepting.
    void stopAccepting();
    // After stopAccepting: waits until every request that had begun to
    // arrive is answered, or until `timeout`. True when none is left.
    bool drain(std::chrono::milliseconds timeout);
    // Closes every connection and ends the threads; a handler still running,
    // and an answer still held for later, are waited for.
    void stop();

    FrontDoorCounts counts() const;

private:
    struct Connection;
    using ConnectionPtr = std::shared_ptr<Connection>;
    class Sink;
    struct Exchange;

    void loop();
    void acceptAll(std::chrono::steady_clock::time_point now);
    void readFrom(const ConnectionPtr& connection, std::chrono::steady_clock::time_point now);
    // Moves a connection's buffered bytes on: a complete request to a
    // worker (or to its handler, on this thread), a refusal to the write queue.
    void advance(const ConnectionPtr& connection, std::chrono::steady_clock::time_point now);
    void writeTo(const ConnectionPtr& connection, std::chrono::steady_clock::time_point now);
    void queueAnswer(const ConnectionPtr& connection, std::string bytes, bool closeAfter,
                     std::chrono::steady_clock::time_point now);
    // Answers a refusal and closes the connection once it is written.
    void refuse(const ConnectionPtr& connection, const FramingRefusal& refusal, Closed reason,
                std::chrono::steady_clock::time_point now);
    // Shuts the sending side after a refusal and discards what still comes, for a while.
    void linger(const ConnectionPtr& connection, std::chrono::steady_clock::time_point now);
    // The listener back in the poll set, if out of file descriptors paused it.
    void resumeAccepting();
    void takeReturned(std::chrono::steady_clock::time_point now);
    // Closes the connections whose phase is past its deadline, up to a
    // batch; true when more are left for the next pass.
    bool sweep(std::chrono::steady_clock::time_point now);
    // What a connection past its deadline gets, by its phase.
    void expire(const ConnectionPtr& connection, std::chrono::steady_clock::time_point now);
    // Closes the requests arriving longest until the buffers fit their limit.
    void shedBuffers();
    // Counts what `c` has received and not handed over as buffered, then
    // sheds past the limit (which may close `c` itself).
    void countBuffered(Connection& c);
    // Closes the connection that received nothing for longest, unless every
    // one is with a worker; false then.
    bool evictIdlest();
    void close(const ConnectionPtr& connection, std::optional<Closed> reason);
    // Puts a connection's socket in the poll set for `mode` (or changes its
    // mode there), and takes it out: the loop's, or under its pollMutex.
    void watch(Connection& connection, int mode);
    void unwatch(Connection& connection);
    void setBuffered(Connection& connection, std::size_t bytes);
    void setBegun(Connection& connection, bool begun);

    void work();
    // Runs the handler of a connection's complete request.
    void answer(const ConnectionPtr& connection);
    // Sends what the handler answered, from the thread that released the
    // last hold on its exchange, and waits for the next request (or hands
    // the connection back to the loop).
    void finish(const ConnectionPtr& connection, Exchange& exchange) noexcept;
    void wake();

    Poco::Net::ServerSocket listener_;
    Poco::Net::Context::Ptr tls_;
    const FrontDoorSettings settings_;
    const ServeRequest serve_;
    Poco::Net::SocketAddress local_;
    Poco::Net::PollSet polls_;
    // The loop's alarm clock: a datagram to it ends the loop's wait.
    Poco::Net::DatagramSocket wakeUp_;
    Poco::Net::SocketAddress wakeUpAddress_;

    // Loop thread only.
    std::unordered_map<int, ConnectionPtr> connections_;
    std::size_t buffered_ = 0;
    bool accepting_ = true;
    bool acceptPaused_ = false;  // out of file descriptors: until a connection closes, or the next sweep
    bool fdShortageLogged_ = false;  // said once until a connection is accepted again
    std::chrono::steady_clock::time_point lastSweep_{};

    // The workers' queue, on a lock of its own: every request passes it.
    std::mutex workMutex_;
    std::condition_variable workReady_;  // a request for the workers, or their stop
    std::deque<ConnectionPtr> work_;     // complete requests, for the workers
    bool workersStopping_ = false;

    mutable std::mutex mutex_;
    std::condition_variable changed_;    // accepting stopped, or nothing busy
    std::vector<ConnectionPtr> returned_;  // from the workers or the threads that finish answers, for the loop
    bool stopAcceptingAsked_ = false;
    bool acceptStopped_ = false;
    bool stopping_ = false;  // the loop's end, after the workers'
    FrontDoorCounts counts_;
    // Connections with a request on its way and not yet answered; drain() waits for none.
    std::atomic<std::size_t> busy_{0};
    // Exchanges not yet finished; stop() waits for none, since an answer
    // finished later runs on a thread that is not the front door's.
    std::size_t exchanges_ = 0;
    bool exchangesRefused_ = false;  // stop() is waiting for the last

    std::atomic<std::size_t> bufferedNow_{0};  // buffered_, for counts()
    // Bytes of complete requests queued for a worker or not yet answered:
    // still in memory, counted against max_buffered_bytes with buffered_.
    std::atomic<std::size_t> handed_{0};
    std::atomic<bool> closing_{false};  // answers say "Connection: close"
    std::atomic<bool> wakePending_{false};  // a datagram is on its way to the loop
    std::thread loopThread_;
    std::vector<std::thread> workers_;
};

}  // namespace slipway
