#include "tests/integration/engine_proxy.h"

#include <Poco/File.h>
#include <Poco/Net/NetException.h>

namespace slipway::testing {
namespace {

using Poco::Net::SocketAddress;
using Poco::Net::StreamSocket;

// Copies bytes one way until either side closes, then closes both.
void pump(StreamSocket from, StreamSocket to) {
    char buffer[65536];
    try {
        for (int n; (n = from.receiveBytes(buffer, sizeof buffer)) > 0;) to.sendBytes(buffer, n);
    } catch (const Poco::Exception&) {
    }
    try {
        to.shutdownSend();
    } catch (const Poco::Exception&) {
    }
}

}  // namespace

EngineProxy::EngineProxy(std::string socketPath, std::string engineSocket)
    : socketPath_(std::move(socketPath)), engineSocket_(std::move(engineSocket)) {
    start();
}

EngineProxy::~EngineProxy() { stop(); }

void EngineProxy::start() {
    if (Poco::File(socketPath_).exists()) Poco::File(socketPath_).remove();
    server_ = std::make_unique<Poco::Net::ServerSocket>(SocketAddress(SocketAddress::UNIX_LOCAL, socketPath_));
    running_ = true;
    acceptor_ = std::thread([this] { acceptLoop(); });
}

void EngineProxy::stop() {
    if (!running_) return;
    running_ = false;
    server_->close();  // wakes the acceptor
    acceptor_.join();
    server_.reset();
    std::vector<std::thread> pumps;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (StreamSocket& socket : open_) {
            try {
                socket.shutdown();
            } catch (const Poco::Exception&) {
            }
        }
        open_.clear();
        pumps.swap(pumps_);
    }
    for (std::thread& t : pumps) t.join();
    try {
        Poco::File(socketPath_).remove();
    } catch (const Poco::Exception&) {
    }
}

void EngineProxy::acceptLoop() {
    while (running_) {
        try {
            Poco::Net::Socket::SocketList readable{*server_}, writable, failed;
            if (Poco::Net::Socket::select(readable, writable, failed, Poco::Timespan(0, 100000)) == 0) continue;
            forward(server_->acceptConnection());
        } catch (const Poco::Exception&) {
            if (!running_) return;
        }
    }
}

void EngineProxy::forward(StreamSocket client) {
    StreamSocket engine;
    try {
        engine.connect(SocketAddress(SocketAddress::UNIX_LOCAL, engineSocket_));
    } catch (const Poco::Exception&) {
        client.close();
        return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    open_.push_back(client);
    open_.push_back(engine);
    pumps_.emplace_back(pump, client, engine);
    pumps_.emplace_back(pump, engine, client);
}

}  // namespace slipway::testing
