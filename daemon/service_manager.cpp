#include "daemon/service_manager.h"

#include <sys/socket.h>

#include <atomic>
#include <stdexcept>

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocketImpl.h>
#include <systemd/sd-daemon.h>

namespace slipway {
namespace {

// Poco makes its sockets itself; this one takes the socket systemd opened.
class AdoptedServerSocket final : public Poco::Net::ServerSocket {
public:
    explicit AdoptedServerSocket(Poco::Net::SocketImpl* impl) : ServerSocket(impl, true) {}
};

}  // namespace

namespace service_manager {

// The socket systemd opened; once told to stop accepting, it tells the
// server's accept loop that nothing waits (after the loop's poll timeout), so
// that what waits stays in the kernel's backlog.
class InheritedSocket::Impl final : public Poco::Net::ServerSocketImpl {
public:
    explicit Impl(int fd) { reset(fd); }

    bool poll(const Poco::Timespan& timeout, int mode) override {
        // The server's accept loop calls this again only once it has queued
        // what the previous call let it accept.
        ++polls_;
        if (!accepting_) {
            std::this_thread::sleep_for(std::chrono::microseconds(timeout.totalMicroseconds()));
            return false;
        }
        return ServerSocketImpl::poll(timeout, mode);
    }

    std::atomic<bool> accepting_{true};
    std::atomic<std::uint64_t> polls_{0};
};

InheritedSocket::InheritedSocket(int fd) : impl_(new Impl(fd)), socket_(AdoptedServerSocket(impl_)) {}

void InheritedSocket::stopAccepting() {
    impl_->accepting_ = false;
    // A poll already under way may still let one connection in: once the
    // loop has polled again, it has queued it.
    // Four of Poco's 250 ms polls at most: a server not running polls no more.
    const std::uint64_t seen = impl_->polls_;
    for (int waited = 0; impl_->polls_ == seen && waited < 200; ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

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
