#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/HTTPServer.h>

namespace slipway::testing {

// A request as the fake engine received it, body decoded.
struct RecordedRequest {
    std::string method;
    std::string uri;
    std::map<std::string, std::string> headers;
    std::string body;
};

struct FakeAnswer {
    int status = 200;
    std::string body;
};

// A stand-in for the Docker engine's HTTP API, for unit tests: a Poco
// HTTPServer on a free loopback port (reached as tcp://127.0.0.1:<port>) that
// records every request and answers it with what `answer` returns.
class FakeDockerEngine {
public:
    explicit FakeDockerEngine(std::function<FakeAnswer(const RecordedRequest&)> answer);
    ~FakeDockerEngine();
    FakeDockerEngine(const FakeDockerEngine&) = delete;
    FakeDockerEngine& operator=(const FakeDockerEngine&) = delete;

    std::string dockerHost() const;
    std::vector<RecordedRequest> requests() const;

private:
    class Handler;
    class Factory;

    FakeAnswer receive(const RecordedRequest& request);

    std::function<FakeAnswer(const RecordedRequest&)> answer_;
    mutable std::mutex mutex_;
    std::vector<RecordedRequest> requests_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace slipway::testing
