#include "tests/unit/backends/fake_docker_engine.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

namespace slipway::testing {

class FakeDockerEngine::Handler : public Poco::Net::HTTPRequestHandler {
public:
    explicit Handler(FakeDockerEngine& engine) : engine_(engine) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        RecordedRequest recorded;
        recorded.method = request.getMethod();
        recorded.uri = request.getURI();
        for (const auto& [name, value] : request) recorded.headers[name] = value;
        Poco::StreamCopier::copyToString(request.stream(), recorded.body);
        const FakeAnswer answer = engine_.receive(recorded);
        response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
        response.setContentType("application/json");
        response.setChunkedTransferEncoding(true);
        response.send() << answer.body;
    }

private:
    FakeDockerEngine& engine_;
};

class FakeDockerEngine::Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(FakeDockerEngine& engine) : engine_(engine) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler(engine_);
    }

private:
    FakeDockerEngine& engine_;
};

FakeDockerEngine::FakeDockerEngine(std::function<FakeAnswer(const RecordedRequest&)> answer)
    : answer_(std::move(answer)) {
    server_ = std::make_unique<Poco::Net::HTTPServer>(
        new Factory(*this), Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)),
        new Poco::Net::HTTPServerParams);
    server_->start();
}

FakeDockerEngine::~FakeDockerEngine() { server_->stopAll(true); }

std::string FakeDockerEngine::dockerHost() const { return "tcp://127.0.0.1:" + std::to_string(server_->port()); }

std::vector<RecordedRequest> FakeDockerEngine::requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
}

FakeAnswer FakeDockerEngine::receive(const RecordedRequest& request) {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
    return answer_(request);
}

}  // namespace slipway::testing
