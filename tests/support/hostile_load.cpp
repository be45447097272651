#include "tests/support/hostile_load.h"

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <Poco/Exception.h>

namespace slipway::testing {
namespace {

void raiseOpenFileLimit(rlim_t wanted) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
}

// Sends all of `bytes` or throws; never raises SIGPIPE.
void sendAll(Poco::Net::StreamSocket& socket, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        sent += static_cast<std::size_t>(
            socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent), MSG_NOSIGNAL));
    }
}

std::size_t fieldKb(const std::string& file, const std::string& name) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + ":", 0) == 0) return std::stoul(line.substr(name.size() + 1));
    }
    return 0;
}

}  // namespace

HostileLoad::HostileLoad(HostileLoadOptions options) : options_(std::move(options)) {}

HostileLoad::~HostileLoad() { stop(); }

void HostileLoad::open() {
    const std::size_t count = static_cast<std::size_t>(options_.trickling + options_.halfBodies);
    raiseOpenFileLimit(static_cast<rlim_t>(count + 1024));
    const std::string host = "Host: " + options_.server.toString() + "\r\n";
    const std::string halfBody =
        "POST /hooks/github HTTP/1.1\r\n" + host +
        "Content-Type: application/json\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: half\r\n"
        "X-Hub-Signature-256: sha256=00\r\nContent-Length: " +
        std::to_string(options_.bodyBytes) + "\r\n\r\n" + std::string(options_.bodyBytes / 2, ' ');
    sockets_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        try {
            sockets_.emplace_back(options_.server);
            const bool trickles = i < static_cast<std::size_t>(options_.trickling);
            sendAll(sockets_.back(), trickles ? "POST /hooks/github HTTP/1.1\r\n" + host : halfBody);
        } catch (const Poco::Exception& e) {
            throw std::runtime_error("hostile connection " + std::to_string(i + 1) + " of " + std::to_string(count) +
                                     " to " + options_.server.toString() + ": " + e.displayText());
        }
    }
    closed_.assign(count, false);
}

void HostileLoad::startTrickling() {
    trickler_ = std::thread([this] {
        const std::size_t trickling = static_cast<std::size_t>(options_.trickling);
        for (int round = 0; !stopping_; ++round) {
            const auto next = std::chrono::steady_clock::now() + options_.trickleEvery;
            const std::string line = "X-Trickle: " + std::to_string(round) + "\r\n";
            for (std::size_t i = 0; i < trickling && !stopping_; ++i) {
                try {
                    sendAll(sockets_[i], line);
                } catch (const Poco::Exception&) {
                    // Closed by the server: what the test waits for.
                }
            }
            while (!stopping_ && std::chrono::steady_clock::now() < next) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    });
}

void HostileLoad::stop() {
    stopping_ = true;
    if (trickler_.joinable()) trickler_.join();
}

std::size_t HostileLoad::closedByServer() {
    std::vector<pollfd> states;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        if (closed_[i]) continue;
        states.push_back({static_cast<int>(sockets_[i].impl()->sockfd()), POLLIN, 0});
        which.push_back(i);
    }
    if (!states.empty()) ::poll(states.data(), states.size(), 0);
    for (std::size_t k = 0; k < states.size(); ++k) {
        if ((states[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        // Whatever the server said before it closed (a 408), then its end.
        char discard[4096];
        const int fd = states[k].fd;
        ssize_t got;
        while ((got = ::recv(fd, discard, sizeof discard, MSG_DONTWAIT)) > 0) {
        }
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed_[which[k]] = true;
    }
    std::size_t closed = 0;
    for (const bool c : closed_) closed += c ? 1 : 0;
    return closed;
}

std::string mergedPullRequest(int number) {
    char sha[41];
    std::snprintf(sha, sizeof sha, "%040x", number + 1);
    return R"({"action": "closed", "number": )" + std::to_string(number) +
           R"(, "pull_request": {"merged": true, "merge_commit_sha": ")" + sha +
           R"(", "base": {"ref": "master"}}, "repository": {"full_name": "Codertocat/Hello-World"}})";
}

ProcessMemory memoryOf(int pid) {
    const std::string proc = "/proc/" + std::to_string(pid);
    return {fieldKb(proc + "/status", "VmRSS"), fieldKb(proc + "/status", "RssAnon"),
            fieldKb(proc + "/smaps_rollup", "Pss")};
}

}  // namespace slipway::testing
