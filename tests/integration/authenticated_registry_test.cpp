#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/integration/command.h"
#include "tests/integration/docker_engine.h"
#include "tests/integration/http_client.h"
#include "tests/integration/integration_environment.h"

namespace slipway::testing {
namespace {

// scripts/make-registry-certs.sh --user: the registry it configures refuses
// anonymous clients and takes the user's password, and the Docker engine
// trusts its CA, logs in and pushes. The docker CLI keeps the login in a config
// folder of the test's own, never in root's ~/.docker.
TEST(AuthenticatedRegistry, RefusesAnonymousClientsAndTakesAPushFromItsUser) {
    TempDir dir;
    const std::string password = "pushing-" + std::to_string(::getpid());
    TlsRegistry registry(dir.path() + "/registry", "slipway", password);

    EXPECT_EQ(httpRequest("GET", "https://" + registry.host() + "/v2/", {}, "", registry.caFile()).status, 401);
    EXPECT_EQ(mustRun("openssl", {"verify", "-CAfile", registry.caFile(), registry.certificateFile()}),
              registry.certificateFile() + ": OK\n");

    const std::string config = dir.path() + "/docker-config";
    const std::string image = registry.host() + "/through-auth:1";
    std::string output;
    EXPECT_FALSE(tryRun("docker", {"--config", config, "login", "--username", "slipway", "--password", "wrong",
                                   registry.host()},
                        output))
        << output;
    mustRun("docker", {"--config", config, "login", "--username", "slipway", "--password", password, registry.host()});
    mustRun("docker", {"tag", IntegrationEnvironment::baseImage(), image});
    mustRun("docker", {"--config", config, "push", image});
    DockerEngine::removeImage(image);
    EXPECT_EQ(registry.tags("through-auth"), std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace slipway::testing
