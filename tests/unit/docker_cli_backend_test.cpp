#include "backends/docker_cli_backend.h"

#include <sstream>

#include <gtest/gtest.h>

namespace slipway {
namespace {

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
