#include "tests/integration/integration_environment.h"

#include <unistd.h>

#include <Poco/File.h>
#include <Poco/Net/SSLManager.h>

#include "tests/integration/command.h"
#include "tests/integration/docker_engine.h"

namespace slipway::testing {
namespace {

std::unique_ptr<TempDir> scratch;
std::unique_ptr<TlsRegistry> sharedRegistry;
std::string base;
std::string examples;

// Pinned, so that a new release cannot change what the tests replay.
constexpr const char* kExamplesPackage = "@octokit/webhooks-examples@7.6.1";

std::string installWebhookExamples() {
    const std::string index =
        std::string(SLIPWAY_NPM_DIR) + "/node_modules/@octokit/webhooks-examples/api.github.com/index.json";
    if (Poco::File(index).exists()) return index;
    Poco::File(SLIPWAY_NPM_DIR).createDirectories();
    std::string output;
    if (!tryRun("npm", {"install", "--no-audit", "--no-fund", "--prefix", SLIPWAY_NPM_DIR, kExamplesPackage}, output)) {
        ADD_FAILURE() << "npm install " << kExamplesPackage << " failed (scripts/install-deps.sh installs npm):\n"
                      << output;
        return {};
    }
    return index;
}

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
    examples = installWebhookExamples();
    ASSERT_TRUE(Poco::File(examples).exists()) << "no webhook examples at " << examples;
}

void IntegrationEnvironment::TearDown() {
    // A test that failed half-way may have left an image behind; none outlives the suite.
    if (!base.empty()) DockerEngine::removeContainersFrom(base);
    if (sharedRegistry) DockerEngine::removeImagesOf(sharedRegistry->host() + "/");
    sharedRegistry.reset();
    if (!base.empty()) DockerEngine::removeImagesBuiltOn(base);
    if (!base.empty()) DockerEngine::removeImage(base);
    scratch.reset();
    Poco::Net::uninitializeSSL();
}

const TlsRegistry& IntegrationEnvironment::registry() { return *sharedRegistry; }

const std::string& IntegrationEnvironment::baseImage() { return base; }

const std::string& IntegrationEnvironment::webhookExamples() { return examples; }

}  // namespace slipway::testing

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new slipway::testing::IntegrationEnvironment);
    return RUN_ALL_TESTS();
}
