#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

namespace slipway::testing {

// A unix socket that forwards every connection to the real Docker engine's
// socket. Pointing slipwayd's builder.docker_host at it lets a test take "the
// engine" away (stop(): connections refused, open ones cut) and bring it back
// (start()) without touching the engine the rest of the suite uses.
class EngineProxy {
public:
    EngineProxy(std::string socketPath, std::string engineSocket = "/var/run/docker.sock");
    ~EngineProxy();
    EngineProxy(const EngineProxy&) = delete;
    EngineProxy& operator=(const EngineProxy&) = delete;

    void start();
    void stop();

    // unix://<socketPath>, for builder.docker_host.
    std::string dockerHost() const { return "unix://" + socketPath_; }

private:
    void acceptLoop();
    void forward(Poco::Net::StreamSocket client);

    std::string socketPath_;
    std::string engineSocket_;
    std::unique_ptr<Poco::Net::ServerSocket> server_;
    std::thread acceptor_;
    std::atomic<bool> running_{false};
    std::mutex mutex_;
    std::vector<Poco::Net::StreamSocket> open_;  // both ends of every forwarded connection
    std::vector<std::thread> pumps_;
};

}  // namespace slipway::testing
