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
std::string githubSpec;

// `file` of npm package `name` at `version` (pinned, so that a new release
// cannot change what the tests replay or check against), installed from the
// npm registry into the build tree unless it is there already.
std::string installNpmFile(const std::string& name, const std::string& version, const std::string& file) {
    const std::string path = std::string(SLIPWAY_NPM_DIR) + "/node_modules/" + name + "/" + file;
    if (Poco::File(path).exists()) return path;
    Poco::File(SLIPWAY_NPM_DIR).createDirectories();
    std::string output;
    const std::string package = name + "@" + version;
    if (!tryRun("npm", {"install", "--no-audit", "--no-fund", "--prefix", SLIPWAY_NPM_DIR, package}, output)) {
        ADD_FAILURE() << "npm install " << package << " failed (scripts/install-deps.sh installs npm):\n" << output;
        return {};
    }
    return path;
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
    examples = installNpmFile("@octokit/webhooks-examples", "7.6.1", "api.github.com/index.json");
    ASSERT_TRUE(Poco::File(examples).exists()) << "no webhook examples at " << examples;
    githubSpec = installNpmFile("@octokit/openapi", "23.0.2", "generated/api.github.com.json");
    ASSERT_TRUE(Poco::File(githubSpec).exists()) << "no OpenAPI description of GitHub at " << githubSpec;
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

const std::string& IntegrationEnvironment::githubDescription() { return githubSpec; }

}  // namespace slipway::testing

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new slipway::testing::IntegrationEnvironment);
    return RUN_ALL_TESTS();
}
