#include "backends/docker_cli_backend.h"

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <Poco/File.h>

#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

const std::string kDigest = "sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a";
const std::string kPassword = "hunter2-not-in-argv";

std::string contentOf(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

// A stand-in for the docker CLI: records each call's DOCKER_CONFIG and argv in
// `calls` and login's stdin in `stdin`; login fails when `loginFails` is set.
class DockerCliBackendTest : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string script = dir_.write(
            "docker",
            "#!/bin/sh\n"
            "here=$(dirname \"$0\")\n"
            "printf '%s\\n' \"DOCKER_CONFIG=$DOCKER_CONFIG\" \"$*\" >> \"$here/calls\"\n"
            "case \"$1\" in\n"
            "  login) cat > \"$here/stdin\"\n"
            "         if [ -e \"$here/loginFails\" ]; then echo 'Error response from daemon: 401 Unauthorized'; exit 1; fi\n"
            "         echo 'Login Succeeded' ;;\n"
            "  build) if [ -e \"$here/buildSays\" ]; then cat \"$here/buildSays\"; exit 1; fi\n"
            "         exec sleep 30 ;;\n"
            "  image) if [ -e \"$here/parent-$6\" ]; then cat \"$here/parent-$6\"; else echo \"Error: No such image: $6\"; exit 1; fi ;;\n"
            "  push) echo 'The push refers to repository [localhost:5443/api]'\n"
            "        echo '1: digest: " + kDigest + " size: 528' ;;\n"
            "esac\n");
        Poco::File(script).setExecutable(true);
        settings_.dockerCommand = script;
        settings_.configDir = dir_.path() + "/config";
    }

    std::string calls() const { return contentOf(dir_.path() + "/calls"); }

    testing::TempDir dir_;
    DockerCliSettings settings_;
};

TEST_F(DockerCliBackendTest, BuildsForAPlatformPullingItsBasesAfresh) {
    dir_.write("buildSays", "Step 1/1 : FROM base\nerror: stop here\n");
    DockerCliBackend backend(settings_);
    std::ostringstream log;
    BuildRequest arm{dir_.path(), "Dockerfile", "localhost:5443/api:1-linux-arm64", {}, {}, "linux/arm64"};
    EXPECT_THROW(backend.build(arm, log), BackendError);
    EXPECT_NE(calls().find("--platform linux/arm64 --pull -- " + dir_.path()), std::string::npos) << calls();
}

TEST_F(DockerCliBackendTest, ReadsAnImagesPlatformAmongWhateverElseDockerSays) {
    DockerCliBackend backend(settings_);
    dir_.write("parent-localhost:5443/api:1", "WARNING: some notice of the CLI's own\nplatform=linux/arm64/v8\n");
    EXPECT_EQ(backend.imagePlatform("localhost:5443/api:1").text(), "linux/arm64");
    EXPECT_NE(calls().find("image inspect --format platform={{.Os}}/{{.Architecture}}/{{.Variant}} -- "
                           "localhost:5443/api:1"),
              std::string::npos)
        << calls();
    dir_.write("parent-localhost:5443/api:1", "platform=linux/arm/\n");
    EXPECT_EQ(backend.imagePlatform("localhost:5443/api:1").text(), "linux/arm/v7");
    dir_.write("parent-localhost:5443/api:1", "platform=//\n");
    EXPECT_THROW(backend.imagePlatform("localhost:5443/api:1"), BackendError);
}

TEST_F(DockerCliBackendTest, LogsInWithThePasswordOnStdinBeforePushing) {
    settings_.registry = {"localhost:5443", "ci-bot", kPassword};
    DockerCliBackend backend(settings_);
    std::ostringstream log;
    EXPECT_EQ(backend.push("localhost:5443/api:1", log), kDigest);
    const std::string config = "DOCKER_CONFIG=" + settings_.configDir + "\n";
    EXPECT_EQ(calls(), config + "login --username=ci-bot --password-stdin -- localhost:5443\n" + config +
                           "push -- localhost:5443/api:1\n");
    EXPECT_EQ(contentOf(dir_.path() + "/stdin"), kPassword);
    EXPECT_EQ(log.str().find(kPassword), std::string::npos) << log.str();
}

TEST_F(DockerCliBackendTest, PushesAnonymouslyWithoutLoggingIn) {
    DockerCliBackend backend(settings_);
    std::ostringstream log;
    EXPECT_EQ(backend.push("localhost:5443/api:1", log), kDigest);
    EXPECT_EQ(calls(), "DOCKER_CONFIG=" + settings_.configDir + "\npush -- localhost:5443/api:1\n");
}

TEST_F(DockerCliBackendTest, AFailedLoginFailsThePushWithoutTheLoginsSecret) {
    dir_.write("loginFails", "");
    settings_.registry = {"localhost:5443", "ci-bot", kPassword};
    DockerCliBackend backend(settings_);
    std::ostringstream log;
    try {
        backend.push("localhost:5443/api:1", log);
        FAIL() << "no error";
    } catch (const BackendError& e) {
        const std::string error = e.what();
        EXPECT_NE(error.find("docker login to localhost:5443 as ci-bot"), std::string::npos) << error;
        EXPECT_NE(error.find("401 Unauthorized"), std::string::npos) << error;
        EXPECT_EQ(error.find(kPassword), std::string::npos) << error;
        EXPECT_EQ(e.kind(), FailureKind::CredentialsRefused);
    }
    EXPECT_EQ(calls().find("push"), std::string::npos) << "pushed after a failed login";
    EXPECT_EQ(log.str().find(kPassword), std::string::npos) << log.str();
}

TEST_F(DockerCliBackendTest, AbortEndsTheDockerCommandsItIsWaitingFor) {
    DockerCliBackend backend(settings_);
    std::ostringstream log;
    const auto start = std::chrono::steady_clock::now();
    std::thread aborter([&] {
        // Once the build's docker command runs (it records its call first);
        // aborted whatever came of the wait, so that the test ends.
        EXPECT_TRUE(testing::eventually([&] { return calls().find("build") != std::string::npos; }))
            << "docker build never ran";
        backend.abort();
    });
    EXPECT_THROW(backend.build({dir_.path(), "Dockerfile", "localhost:5443/api:1", {}, {}, {}}, log), BackendError);
    aborter.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20)) << "the build ran its 30 s";
}

TEST_F(DockerCliBackendTest, AFailureIsAnOutageOnlyWhenDockerSaysSoBeforeAnyStep) {
    DockerCliBackend backend(settings_);
    std::ostringstream log;
    auto kindOf = [&](const std::string& output) {
        dir_.write("buildSays", output);
        try {
            backend.build({dir_.path(), "Dockerfile", "localhost:5443/api:1", {}, {}, {}}, log);
        } catch (const BackendError& e) {
            return e.kind();
        }
        ADD_FAILURE() << "no error";
        return FailureKind::Other;
    };
    EXPECT_EQ(kindOf("Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n"),
              FailureKind::EngineUnreachable);
    // A Dockerfile whose RUN step prints the same words fails as itself, and is not retried.
    EXPECT_EQ(kindOf("Step 1/2 : RUN echo 'Cannot connect to the Docker daemon at unix:///x.sock.'; false\n"
                     " ---> Running in 5f2b6a0c1d3e\n"
                     "Cannot connect to the Docker daemon at unix:///x.sock.\n"),
              FailureKind::Other);
}

// A RUN step that prints " ---> <id>" of an image on the build host does not
// get slipway to remove it: the engine says whose child each image is.
TEST_F(DockerCliBackendTest, AFailedBuildRemovesOnlyTheImagesTheEngineSaysItMade) {
    DockerCliBackend backend(settings_);
    std::ostringstream log;
    dir_.write("buildSays", "Step 1/3 : FROM base\n ---> 6d3252677a64\nStep 2/3 : COPY a /a\n ---> 1cbd2e9184b5\n"
                            "Step 3/3 : RUN echo ' ---> abcdefabcdef'; false\n ---> Running in 5f2b6a0c1d3e\n"
                            " ---> abcdefabcdef\n");
    dir_.write("parent-1cbd2e9184b5", "sha256:6d3252677a64ffffffff 0\n");
    dir_.write("parent-abcdefabcdef", "sha256:0123456789abffffffff 1\n");
    EXPECT_THROW(backend.build({dir_.path(), "Dockerfile", "localhost:5443/api:1", {}, {}, {}}, log), BackendError);
    EXPECT_NE(calls().find("\nrmi -- 1cbd2e9184b5\n"), std::string::npos) << calls();
    EXPECT_EQ(calls().find("rmi -- abcdefabcdef"), std::string::npos) << calls();
}

TEST(DockerCliBackend, ReportsAMissingDockerCommandAsABackendError) {
    DockerCliSettings settings;
    settings.dockerCommand = "/nonexistent/docker";
    DockerCliBackend backend(settings);
    std::ostringstream log;
    try {
        backend.remove("localhost:5443/api:1", log);
        FAIL() << "no error";
    } catch (const BackendError& e) {
        EXPECT_NE(std::string(e.what()).find("docker rmi of localhost:5443/api:1"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace slipway
