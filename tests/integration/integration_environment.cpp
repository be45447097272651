#include "tests/integration/integration_environment.h"

#include <unistd.h>

#include <Poco/Net/SSLManager.h>

#include "tests/integration/docker_engine.h"

namespace slipway::testing {
namespace {

std::unique_ptr<TempDir> scratch;
std::unique_ptr<TlsRegistry> sharedRegistry;
std::string base;

}  // namespace

void IntegrationEnvironment::SetUp() {
    Poco::Net::initializeSSL();
    const std::string problem = DockerEngine::problem();
    ASSERT_EQ(problem, "") << problem;
    scratch = std::make_unique<TempDir>();
    base = "slipway-test-base:" + std::to_string(::getpid());
    DockerEngine::importBaseImage(base, scratch->path() + "/base");
    ASSERT_TRUE(DockerEngine::imageExists(base)) << "could not import the base image " << base;
    sharedRegistry = std::make_unique<TlsRegistry>(scratch->path() + "/registry");
}

void IntegrationEnvironment::TearDown() {
    sharedRegistry.reset();
    if (!base.empty()) DockerEngine::removeImage(base);
    scratch.reset();
    Poco::Net::uninitializeSSL();
}

const TlsRegistry& IntegrationEnvironment::registry() { return *sharedRegistry; }

const std::string& IntegrationEnvironment::baseImage() { return base; }

}  // namespace slipway::testing

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new slipway::testing::IntegrationEnvironment);
    return RUN_ALL_TESTS();
}
