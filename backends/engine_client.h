#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <ostream>
#include <string>

#include <Poco/Net/StreamSocket.h>

namespace slipway {

// Where a Docker engine listens, from a DOCKER_HOST-style address.
struct EngineEndpoint {
    std::string socketPath;  // unix://<socketPath>; empty for tcp
    std::string host;        // tcp://<host>:<port>
    std::uint16_t port = 0;
};

// Parses "unix:///absolute/path" or "tcp://host:port"; throws
// std::invalid_argument saying which forms it takes.
EngineEndpoint parseEngineEndpoint(const std::string& dockerHost);

// One HTTP request to the engine.
struct EngineRequest {
    std::string method;
    std::string target;  // path and query: /v1.41/build?t=...
    std::map<std::string, std::string> headers;
    std::function<void(std::ostream&)> body;  // writes the body, sent chunked; none when empty
};

// Speaks HTTP (Poco's client) to the Docker engine at a DOCKER_HOST address,
// plain HTTP over a unix socket or tcp, one connection per request; safe to
// share between threads.
class EngineClient {
public:
    EngineClient(std::string dockerHost, std::chrono::seconds connectTimeout);

    // Sends `request` and hands each line of a 2xx answer's body to `onLine`
    // (when given) as it arrives. The whole call, connecting included, ends
    // within `timeout`. Throws BackendError: "cannot reach the Docker engine
    // at <host>: <why>", "the Docker engine at <host> answered <status>
    // <reason>: <its message>", "timed out after N s talking to the Docker
    // engine at <host>", or "lost the Docker engine at <host>: <why>". What
    // `request.body` throws passes through.
    void call(const EngineRequest& request, std::chrono::seconds timeout,
              const std::function<void(const std::string&)>& onLine) const;

    // Ends every call of this client in progress at once (their sockets are
    // shut down, so they throw); for a stop that cannot wait for them.
    void abortCalls() const;

private:
    class Deadline;  // one call's watchdog
    // The calls in progress, for abortCalls(); a Deadline enters and leaves itself.
    struct Calls {
        std::mutex mutex;
        std::set<Deadline*> deadlines;
    };

    Poco::Net::StreamSocket connect(std::chrono::seconds timeout) const;

    std::string dockerHost_;
    EngineEndpoint endpoint_;
    std::chrono::seconds connectTimeout_;
    std::shared_ptr<Calls> calls_ = std::make_shared<Calls>();
};

}  // namespace slipway
