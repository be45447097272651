#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <Poco/Net/ServerSocket.h>

namespace slipway {

// What systemd hands a service and asks of it, through libsystemd: the
// listening socket of a socket unit (slipway.socket), so that connections
// wait in its backlog while slipwayd restarts instead of being refused;
// readiness (Type=notify) once requests are served; and a watchdog. Outside
// systemd (no $LISTEN_FDS, no $NOTIFY_SOCKET) each does nothing.
namespace service_manager {

// A listening socket systemd passed (slipway.socket), which stays open in
// systemd while slipwayd restarts.
class InheritedSocket {
public:
    explicit InheritedSocket(int fd);

    // The socket, for the HTTP server to accept on.
    Poco::Net::ServerSocket socket() const { return socket_; }

private:
    Poco::Net::ServerSocket socket_;
};

// The one listening TCP socket systemd passed, unless it passed none; throws
// std::runtime_error when it passed more than one, or something else.
std::optional<InheritedSocket> inheritedSocket();

// READY=1, with `status` for `systemctl status`.
void notifyReady(const std::string& status);
// STOPPING=1, with `status`.
void notifyStopping(const std::string& status);

}  // namespace service_manager

// Feeds systemd's watchdog (WatchdogSec= in the unit) while `alive` says the
// daemon works, at half the interval systemd asks for; a daemon whose check
// fails or hangs is not fed, and systemd restarts it. Does nothing when the
// unit sets no watchdog.
class Watchdog {
public:
    explicit Watchdog(std::function<bool()> alive);
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    void run(std::chrono::microseconds interval);

    std::function<bool()> alive_;
    std::mutex mutex_;
    std::condition_variable stop_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace slipway
