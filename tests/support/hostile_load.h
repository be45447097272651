#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

namespace slipway::testing {

// What an attacker of the front door opens.
struct HostileLoadOptions {
    Poco::Net::SocketAddress server;
    int trickling = 5000;  // send a request line, then a header line every `trickleEvery`, never the end
    int halfBodies = 1000;  // send a webhook's header and half its body, then nothing
    std::chrono::milliseconds trickleEvery{2000};
    std::size_t bodyBytes = 20000;  // the Content-Length the half bodies announce
};

// Connections that try to hold a server's front door shut: slow headers and
// bodies cut in half, from one address. Used by the integration test and by
// bench/front_door.sh.
class HostileLoad {
public:
    explicit HostileLoad(HostileLoadOptions options);
    ~HostileLoad();
    HostileLoad(const HostileLoad&) = delete;
    HostileLoad& operator=(const HostileLoad&) = delete;

    // Opens every connection and sends what each sends first; throws
    // std::runtime_error naming the one that could not connect. Raises this
    // process's limit on open files to hold them.
    void open();
    // Sends the trickling connections' next header lines from a thread of its own, until stop().
    void startTrickling();
    void stop();

    // How many of the connections the server has closed so far (it read
    // their end, or they were reset); looks without waiting.
    std::size_t closedByServer();
    std::size_t total() const { return sockets_.size(); }

private:
    HostileLoadOptions options_;
    std::vector<Poco::Net::StreamSocket> sockets_;  // the trickling ones first
    std::vector<bool> closed_;
    std::atomic<bool> stopping_{false};
    std::thread trickler_;
};

// A pull_request "closed" event for Codertocat/Hello-World, merged into
// master, with a merge commit of its own for each `number`: the delivery
// the attack must not hold out.
std::string mergedPullRequest(int number);

// A process's memory as Linux counts it: VmRSS includes the shared libraries'
// pages; RssAnon and PSS are the process's own.
struct ProcessMemory {
    std::size_t vmRssKb = 0;
    std::size_t rssAnonKb = 0;
    std::size_t pssKb = 0;
};
ProcessMemory memoryOf(int pid);

}  // namespace slipway::testing
