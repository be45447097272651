#include "daemon/service_manager.h"

#include <sys/socket.h>

#include <stdexcept>

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocketImpl.h>
#include <systemd/sd-daemon.h>

namespace slipway {
namespace {

// Poco makes its sockets itself; this one takes the socket systemd opened.
class AdoptedSocketImpl final : public Poco::Net::ServerSocketImpl {
public:
    explicit AdoptedSocketImpl(int fd) { reset(fd); }
};

class AdoptedServerSocket final : public Poco::Net::ServerSocket {
public:
    explicit AdoptedServerSocket(int fd) : ServerSocket(new AdoptedSocketImpl(fd), true) {}
};

}  // namespace

namespace service_manager {

InheritedSocket::InheritedSocket(int fd) : socket_(AdoptedServerSocket(fd)) {}

std::optional<InheritedSocket> inheritedSocket() {
    // Unsets $LISTEN_FDS: the docker children must not take the socket for theirs.
    const int count = sd_listen_fds(1);
    if (count < 0) throw std::runtime_error("cannot read the sockets systemd passed: " + std::to_string(-count));
    if (count == 0) return std::nullopt;
    if (count > 1) {
        throw std::runtime_error("systemd passed " + std::to_string(count) +
                                 " sockets; slipwayd serves one (ListenStream= once in slipway.socket)");
    }
    const int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
        throw std::runtime_error("the socket systemd passed is not a listening stream socket (ListenStream=)");
    }
    return InheritedSocket(fd);
}

void notifyReady(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + status).c_str()); }

void notifyStopping(const std::string& status) { sd_notify(0, ("STOPPING=1\nSTATUS=" + status).c_str()); }

}  // namespace service_manager

Watchdog::Watchdog(std::function<bool()> alive) : alive_(std::move(alive)) {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) return;
    thread_ = std::thread([this, usec] { run(std::chrono::microseconds(usec / 2)); });
}

Watchdog::~Watchdog() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    stop_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Watchdog::run(std::chrono::microseconds interval) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_.wait_for(lock, interval, [this] { return stopping_; })) {
        lock.unlock();
        bool alive = false;
        try {
            alive = alive_();
        } catch (const std::exception& e) {
            Poco::Logger::get("slipway").warning(std::string("watchdog check failed: ") + e.what());
        }
        if (alive) sd_notify(0, "WATCHDOG=1");
        lock.lock();
    }
}

}  // namespace slipway
