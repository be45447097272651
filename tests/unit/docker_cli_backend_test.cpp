#include "backends/docker_cli_backend.h"

#include <sstream>

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(DockerCliBackend, FindsTheDigestInPushOutput) {
    const std::string output =
        "The push refers to repository [localhost:5443/api]\n"
        "43f427434556: Pushed\n"
        "1.0: digest: sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a size: 735\n";
    EXPECT_EQ(parsePushDigest(output), "sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a");
}

TEST(DockerCliBackend, FindsNoDigestWhenThereIsNone) {
    EXPECT_EQ(parsePushDigest("unauthorized: authentication required\n"), "");
    EXPECT_EQ(parsePushDigest("digest: sha256:short size: 1\n"), "");
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
