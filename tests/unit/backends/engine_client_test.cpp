#include "backends/engine_client.h"

#include <gtest/gtest.h>
#include <Poco/Net/ServerSocket.h>

#include "backends/backend.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/backends/fake_docker_engine.h"

namespace slipway {
namespace {

using std::chrono::seconds;
using testing::FakeAnswer;
using testing::FakeDockerEngine;
using testing::RecordedRequest;

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const BackendError& e) {
        return e.what();
    }
    return "no error";
}

TEST(EngineClient, ParsesUnixAndTcpAddresses) {
    EXPECT_EQ(parseEngineEndpoint("unix:///var/run/docker.sock").socketPath, "/var/run/docker.sock");
    const EngineEndpoint tcp = parseEngineEndpoint("tcp://build-host:2375");
    EXPECT_EQ(tcp.socketPath, "");
    EXPECT_EQ(tcp.host, "build-host");
    EXPECT_EQ(tcp.port, 2375);
    EXPECT_EQ(parseEngineEndpoint("tcp://[::1]:2375").host, "::1");
}

TEST(EngineClient, RefusesOtherAddressesSayingWhatItTakes) {
    for (const char* bad : {"/var/run/docker.sock", "unix://", "unix://relative.sock", "tcp://host", "tcp://host:0",
                            "tcp://:2375", "ssh://me@host", "http://host:2375"}) {
        try {
            parseEngineEndpoint(bad);
            ADD_FAILURE() << bad << " was taken";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("expected unix:///path/to/docker.sock or tcp://host:port"),
                      std::string::npos)
                << e.what();
        }
    }
}

TEST(EngineClient, SaysWhenTheEngineCannotBeReached) {
    testing::TempDir dir;
    const std::string host = "unix://" + dir.path() + "/docker.sock";
    const EngineClient client(host, seconds(5));
    const std::string error = errorOf([&] { client.call({"GET", "/v1.41/_ping", {}, {}}, seconds(5), {}); });
    EXPECT_EQ(error.rfind("cannot reach the Docker engine at " + host + ": ", 0), 0u) << error;
}

TEST(EngineClient, GivesUpOnAnEngineThatNeverAnswers) {
    // Listening but never accepting: the connection succeeds and nothing ever comes back.
    Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string host = "tcp://127.0.0.1:" + std::to_string(silent.address().port());
    const EngineClient client(host, seconds(5));
    const auto start = std::chrono::steady_clock::now();
    const std::string error = errorOf([&] { client.call({"GET", "/v1.41/_ping", {}, {}}, seconds(1), {}); });
    EXPECT_EQ(error, "timed out after 1 s talking to the Docker engine at " + host);
    EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

TEST(EngineClient, GivesUpOnAnEngineThatStopsReadingTheUpload) {
    Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string host = "tcp://127.0.0.1:" + std::to_string(silent.address().port());
    const EngineClient client(host, seconds(5));
    const std::string chunk(1 << 20, 'x');
    const auto start = std::chrono::steady_clock::now();
    const std::string error = errorOf([&] {
        client.call({"POST", "/v1.41/build", {},
                     [&](std::ostream& body) {
                         // Far more than the socket buffers hold, so the write blocks.
                         for (int i = 0; i < 256 && body; ++i) body << chunk;
                     }},
                    seconds(1), {});
    });
    EXPECT_EQ(error, "timed out after 1 s talking to the Docker engine at " + host);
    EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

TEST(EngineClient, StreamsTheBodyAndHandsOverTheAnswerLineByLine) {
    FakeDockerEngine engine([](const RecordedRequest&) { return FakeAnswer{200, "{\"a\":1}\r\n{\"b\":2}\r\n"}; });
    const EngineClient client(engine.dockerHost(), seconds(5));
    std::vector<std::string> lines;
    client.call({"POST", "/v1.41/build?t=x", {{"Content-Type", "application/x-tar"}},
                 [](std::ostream& body) { body << "context bytes"; }},
                seconds(5), [&](const std::string& line) { lines.push_back(line); });
    EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}\r", "{\"b\":2}\r"}));

    ASSERT_EQ(engine.requests().size(), 1u);
    RecordedRequest request = engine.requests()[0];
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.uri, "/v1.41/build?t=x");
    EXPECT_EQ(request.body, "context bytes");
    EXPECT_EQ(request.headers["Transfer-Encoding"], "chunked");
    EXPECT_EQ(request.headers["Content-Type"], "application/x-tar");
    EXPECT_EQ(request.headers["Host"], engine.dockerHost().substr(6));
}

TEST(EngineClient, ReportsAnErrorAnswerWithTheEnginesMessage) {
    FakeDockerEngine engine(
        [](const RecordedRequest&) { return FakeAnswer{404, "{\"message\":\"No such image: x:1\"}\n"}; });
    const EngineClient client(engine.dockerHost(), seconds(5));
    bool called = false;
    const std::string error = errorOf([&] {
        client.call({"DELETE", "/v1.41/images/x:1", {}, {}}, seconds(5), [&](const std::string&) { called = true; });
    });
    EXPECT_EQ(error, "the Docker engine at " + engine.dockerHost() + " answered 404 Not Found: No such image: x:1");
    EXPECT_FALSE(called) << "an error answer was handed over as progress";
}

TEST(EngineClient, SetsTheKindOfAFailureFromTheAnswer) {
    auto kindOf = [](int status, const std::string& message) {
        FakeDockerEngine engine([&](const RecordedRequest&) {
            return FakeAnswer{status, "{\"message\":\"" + message + "\"}\n"};
        });
        const EngineClient client(engine.dockerHost(), seconds(5));
        try {
            client.call({"POST", "/v1.41/images/x/push?tag=1", {}, {}}, seconds(5), {});
        } catch (const BackendError& e) {
            return e.kind();
        }
        ADD_FAILURE() << "no error for " << status;
        return FailureKind::Other;
    };
    EXPECT_EQ(kindOf(404, "No such image: x:1"), FailureKind::ImageVanished);
    // A proxy in front of the engine: the status alone says it is an outage.
    EXPECT_EQ(kindOf(503, "try later"), FailureKind::RegistryUnavailable);
    EXPECT_EQ(kindOf(500, "unauthorized: authentication required"), FailureKind::CredentialsRefused);
    EXPECT_EQ(kindOf(400, "invalid reference format"), FailureKind::Other);

    testing::TempDir dir;
    const EngineClient gone("unix://" + dir.path() + "/docker.sock", seconds(5));
    try {
        gone.call({"GET", "/v1.41/_ping", {}, {}}, seconds(5), {});
        ADD_FAILURE() << "no error";
    } catch (const BackendError& e) {
        EXPECT_EQ(e.kind(), FailureKind::EngineUnreachable);
    }
}

TEST(EngineClient, PassesOnWhatTheBodyWriterThrows) {
    FakeDockerEngine engine([](const RecordedRequest&) { return FakeAnswer{200, ""}; });
    const EngineClient client(engine.dockerHost(), seconds(5));
    EXPECT_THROW(client.call({"POST", "/v1.41/build", {},
                              [](std::ostream&) { throw std::runtime_error("cannot read payload.txt"); }},
                             seconds(5), {}),
                 std::runtime_error);
}

}  // namespace
}  // namespace slipway
