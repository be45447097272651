#include "backends/docker_api_backend.h"

#include <functional>
#include <sstream>

#include <gtest/gtest.h>
#include <Poco/URI.h>

#include "tests/support/temp_dir.h"
#include "tests/unit/backends/fake_docker_engine.h"

namespace slipway {
namespace {

using testing::FakeAnswer;
using testing::FakeDockerEngine;
using testing::RecordedRequest;

const std::string kImage = "localhost:5443/api:1.4.2";
const std::string kDigest = "sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a";
const std::string kPassword = "hunter2-never-shown";

std::map<std::string, std::string> queryOf(const std::string& uri) {
    std::map<std::string, std::string> query;
    for (const auto& [name, value] : Poco::URI(uri).getQueryParameters()) query[name] = value;
    return query;
}

std::string pathOf(const std::string& uri) { return Poco::URI(uri).getPath(); }

class DockerApiBackendTest : public ::testing::Test {
protected:
    DockerApiBackend backendFor(const FakeDockerEngine& engine) {
        DockerApiSettings settings;
        settings.dockerHost = engine.dockerHost();
        settings.registry = {"localhost:5443", "ci-bot", kPassword};
        return DockerApiBackend(settings);
    }

    BuildRequest request() {
        context_.write("Dockerfile", "FROM base\nRUN false\n");
        return {context_.path(), "Dockerfile", kImage, {}, {}, {}};
    }

    testing::TempDir context_;
    std::ostringstream log_;
};

TEST_F(DockerApiBackendTest, BuildsFromTheContextTarWithTheDocumentedParameters) {
    FakeDockerEngine engine([](const RecordedRequest&) {
        return FakeAnswer{200,
                          "{\"stream\":\"Step 1/1 : FROM base\\n\"}\r\n{\"stream\":\" ---\\u003e 6d3252677a64\\n\"}\r\n"
                          "{\"aux\":{\"ID\":\"sha256:6d3252677a64\"}}\r\n"
                          "{\"stream\":\"Successfully built 6d3252677a64\\n\"}\r\n"};
    });
    backendFor(engine).build(request(), log_);

    ASSERT_EQ(engine.requests().size(), 1u);
    RecordedRequest build = engine.requests()[0];
    EXPECT_EQ(build.method, "POST");
    EXPECT_EQ(pathOf(build.uri), "/v1.41/build");
    EXPECT_EQ(queryOf(build.uri), (std::map<std::string, std::string>{
                                      {"t", kImage}, {"dockerfile", "Dockerfile"}, {"rm", "1"}, {"forcerm", "1"}}));
    EXPECT_EQ(build.headers["Content-Type"], "application/x-tar");
    EXPECT_EQ(build.body.size() % 512, 0u) << "not a tar";
    EXPECT_NE(build.body.find("FROM base\nRUN false\n"), std::string::npos);
    EXPECT_EQ(log_.str(), "Step 1/1 : FROM base\n ---> 6d3252677a64\nSuccessfully built 6d3252677a64\n");
}

TEST_F(DockerApiBackendTest, BuildsForAPlatformPullingItsBasesAfresh) {
    FakeDockerEngine engine([](const RecordedRequest&) {
        return FakeAnswer{200, "{\"aux\":{\"ID\":\"sha256:6d3252677a64\"}}\r\n"};
    });
    BuildRequest arm = request();
    arm.platform = "linux/arm64";
    backendFor(engine).build(arm, log_);
    ASSERT_EQ(engine.requests().size(), 1u);
    const std::map<std::string, std::string> query = queryOf(engine.requests()[0].uri);
    EXPECT_EQ(query.at("platform"), "linux/arm64");
    // The engine's local copy of a base may be another platform's.
    EXPECT_EQ(query.at("pull"), "1");
}

TEST_F(DockerApiBackendTest, APingSaysThePlatformTheEngineRunsOn) {
    FakeDockerEngine engine([](const RecordedRequest&) {
        return FakeAnswer{200, R"({"Version": "20.10.24", "Os": "linux", "Arch": "arm64", "ApiVersion": "1.41"})"};
    });
    EXPECT_EQ(backendFor(engine).ping().text(), "linux/arm64");
    EXPECT_EQ(pathOf(engine.requests().at(0).uri), "/v1.41/version");
    // An engine on a platform slipway builds nothing for still answers.
    FakeDockerEngine odd([](const RecordedRequest&) { return FakeAnswer{200, R"({"Os": "linux", "Arch": "sparc64"})"}; });
    EXPECT_EQ(backendFor(odd).ping().text(), "linux/sparc64");
    FakeDockerEngine garbled([](const RecordedRequest&) { return FakeAnswer{200, "not json"}; });
    EXPECT_THROW(backendFor(garbled).ping(), BackendError);
}

TEST_F(DockerApiBackendTest, AFailedBuildSaysWhichStepAndRemovesTheImagesItMade) {
    FakeDockerEngine engine([](const RecordedRequest& r) {
        if (r.method == "DELETE") return FakeAnswer{200, "[{\"Deleted\":\"sha256:1cbd2e9184b5\"}]\n"};
        // The engine says whose child each image is.
        if (r.method == "GET") return FakeAnswer{200, "{\"Id\":\"sha256:1cbd2e9184b5ff\",\"Parent\":\"sha256:6d3252677a64ff\"}"};
        return FakeAnswer{200,
                          "{\"stream\":\"Step 1/3 : FROM base\\n\"}\n{\"stream\":\" ---\\u003e 6d3252677a64\\n\"}\n"
                          "{\"stream\":\"Step 2/3 : COPY payload.txt /payload.txt\\n\"}\n"
                          "{\"stream\":\" ---\\u003e 1cbd2e9184b5\\n\"}\n"
                          "{\"stream\":\"Step 3/3 : RUN false\\n\"}\n"
                          "{\"stream\":\" ---\\u003e Running in 849c0555e907\\n\"}\n"
                          "{\"errorDetail\":{\"code\":1,\"message\":\"The command '/bin/sh -c false' returned a "
                          "non-zero code: 1\"},\"error\":\"The command '/bin/sh -c false' returned a non-zero code: "
                          "1\"}\n"};
    });
    try {
        backendFor(engine).build(request(), log_);
        FAIL() << "no error";
    } catch (const BackendError& e) {
        EXPECT_EQ(std::string(e.what()), "build of " + kImage +
                                             " failed at step 3/3 (RUN false): The command '/bin/sh -c false' "
                                             "returned a non-zero code: 1");
    }
    ASSERT_EQ(engine.requests().size(), 3u);
    EXPECT_EQ(engine.requests()[1].method, "GET");
    EXPECT_EQ(engine.requests()[1].uri, "/v1.41/images/1cbd2e9184b5/json");
    EXPECT_EQ(engine.requests()[2].method, "DELETE");
    EXPECT_EQ(engine.requests()[2].uri, "/v1.41/images/1cbd2e9184b5");
    EXPECT_NE(log_.str().find("Deleted: sha256:1cbd2e9184b5"), std::string::npos) << log_.str();
}

TEST_F(DockerApiBackendTest, ABuildWhoseAnswerEndsEarlyFails) {
    FakeDockerEngine engine(
        [](const RecordedRequest&) { return FakeAnswer{200, "{\"stream\":\"Step 1/1 : FROM base\\n\"}\n"}; });
    try {
        backendFor(engine).build(request(), log_);
        FAIL() << "no error";
    } catch (const BackendError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "build of " + kImage + ": the engine's answer ended without the id of the image it built");
    }
}

TEST_F(DockerApiBackendTest, PushesWithTheRegistryAuthAndReturnsTheDigest) {
    FakeDockerEngine engine([](const RecordedRequest&) {
        return FakeAnswer{200, "{\"status\":\"The push refers to repository [localhost:5443/api]\"}\n"
                               "{\"status\":\"1.4.2: digest: " + kDigest + " size: 528\"}\n"
                               "{\"progressDetail\":{},\"aux\":{\"Tag\":\"1.4.2\",\"Digest\":\"" + kDigest +
                               "\",\"Size\":528}}\n"};
    });
    EXPECT_EQ(backendFor(engine).push(kImage, log_), kDigest);
    ASSERT_EQ(engine.requests().size(), 1u);
    RecordedRequest push = engine.requests()[0];
    EXPECT_EQ(push.method, "POST");
    EXPECT_EQ(pathOf(push.uri), "/v1.41/images/localhost:5443/api/push");
    EXPECT_EQ(queryOf(push.uri), (std::map<std::string, std::string>{{"tag", "1.4.2"}}));
    EXPECT_EQ(push.headers["X-Registry-Auth"], registryAuthHeader({"localhost:5443", "ci-bot", kPassword}));
    EXPECT_EQ(log_.str().find(kPassword), std::string::npos);
}

TEST_F(DockerApiBackendTest, AFailedPushSaysWhyWithoutThePassword) {
    FakeDockerEngine engine([](const RecordedRequest&) {
        return FakeAnswer{200, "{\"status\":\"The push refers to repository [localhost:5443/api]\"}\n"
                               "{\"errorDetail\":{\"message\":\"unauthorized: authentication required\"},"
                               "\"error\":\"unauthorized: authentication required\"}\n"};
    });
    try {
        backendFor(engine).push(kImage, log_);
        FAIL() << "no error";
    } catch (const BackendError& e) {
        EXPECT_EQ(std::string(e.what()), "push of " + kImage + ": unauthorized: authentication required");
    }
    EXPECT_EQ(log_.str().find(kPassword), std::string::npos) << log_.str();
}

TEST_F(DockerApiBackendTest, APushWithoutADigestFails) {
    FakeDockerEngine engine([](const RecordedRequest&) { return FakeAnswer{200, "{\"status\":\"Pushed\"}\n"}; });
    try {
        backendFor(engine).push(kImage, log_);
        FAIL() << "no error";
    } catch (const BackendError& e) {
        EXPECT_EQ(std::string(e.what()), "push of " + kImage + ": no digest in the engine's answer");
    }
}

TEST_F(DockerApiBackendTest, RemovesTheTag) {
    FakeDockerEngine engine([](const RecordedRequest&) {
        return FakeAnswer{200, "[{\"Untagged\":\"" + kImage + "\"},{\"Deleted\":\"sha256:96f416a900ef\"}]\n"};
    });
    backendFor(engine).remove(kImage, log_);
    ASSERT_EQ(engine.requests().size(), 1u);
    EXPECT_EQ(engine.requests()[0].method, "DELETE");
    EXPECT_EQ(engine.requests()[0].uri, "/v1.41/images/" + kImage);
    EXPECT_EQ(log_.str(), "Untagged: " + kImage + "\nDeleted: sha256:96f416a900ef\n");
}

TEST_F(DockerApiBackendTest, AnEngineThatIsDownFailsEachStepSayingSo) {
    DockerApiSettings settings;
    settings.dockerHost = "unix://" + context_.path() + "/docker.sock";
    DockerApiBackend backend(settings);
    const std::string unreachable = "cannot reach the Docker engine at " + settings.dockerHost + ": ";
    auto expectUnreachable = [&](const std::string& step, const std::function<void()>& call) {
        try {
            call();
            ADD_FAILURE() << step << ": no error";
        } catch (const BackendError& e) {
            EXPECT_EQ(std::string(e.what()).rfind(step + " of " + kImage + ": " + unreachable, 0), 0u) << e.what();
            EXPECT_EQ(e.kind(), FailureKind::EngineUnreachable) << step;
        }
    };
    expectUnreachable("build", [&] { backend.build(request(), log_); });
    expectUnreachable("push", [&] { backend.push(kImage, log_); });
    expectUnreachable("removal", [&] { backend.remove(kImage, log_); });
}

}  // namespace
}  // namespace slipway
