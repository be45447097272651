#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <Poco/Environment.h>
#include <Poco/JSON/Array.h>
#include <Poco/String.h>

#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

std::string contentOf(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

// Pushes to a registry of the test's own that requires htpasswd authentication.
class RegistryAuth : public PipelineTest {
protected:
    static constexpr const char* kUser = "slipway-ci";
    static constexpr const char* kPassword = "Right-Pa55word-Never-Logged";

    void SetUp() override {
        PipelineTest::SetUp();
        registry_ = std::make_unique<TlsRegistry>(dir_.path() + "/private-registry", kUser, kPassword);
    }

    void TearDown() override {
        PipelineTest::TearDown();
        registry_.reset();
    }

    // Builds one service and pushes it to the private registry as kUser with `password`; returns its build.
    Poco::JSON::Object::Ptr buildWith(const std::string& name, const std::string& password) {
        const std::string sha = git_->commit(files(
            {service(name), {{"images.json", R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": "1"}])"}}}));
        DaemonOptions options = defaultOptions();
        options.registryHost = registry_->host();
        options.registryUser = kUser;
        options.registryPassword = password;
        SlipwayProcess& daemon = startDaemon(options);
        const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, name));
        Poco::JSON::Array::Ptr builds = job->getArray("builds");
        if (builds->size() != 1) {
            ADD_FAILURE() << "expected one build: " << daemon.output();
            return new Poco::JSON::Object;
        }
        return builds->getObject(0);
    }

    std::string logOf(const Poco::JSON::Object::Ptr& build) const {
        const HttpAnswer log = daemon_->get("/api/builds/" + std::to_string(build->getValue<std::int64_t>("id")) + "/log");
        EXPECT_EQ(log.status, 200);
        return log.body;
    }

    std::unique_ptr<TlsRegistry> registry_;
};

TEST_P(RegistryAuth, TheRegistryRefusesAnonymousRequests) {
    const HttpAnswer anonymous = httpRequest("GET", "https://" + registry_->host() + "/v2/", {}, "", registry_->caFile());
    EXPECT_EQ(anonymous.status, 401);
}

TEST_P(RegistryAuth, PushesWithTheConfiguredCredentials) {
    const std::string name = unique("private");
    const Poco::JSON::Object::Ptr build = buildWith(name, kPassword);
    EXPECT_EQ(build->getValue<std::string>("state"), "succeeded") << daemon_->output();
    EXPECT_EQ(registry_->tags(name), std::vector<std::string>{"1"});
    EXPECT_EQ(build->getValue<std::string>("digest"), registry_->manifestDigest(name, "1"));
    EXPECT_FALSE(DockerEngine::imageExists(registry_->host() + "/" + name + ":1"));
    EXPECT_EQ(logOf(build).find(kPassword), std::string::npos);
    EXPECT_EQ(daemon_->output().find(kPassword), std::string::npos);

    // The CLI's login lands in slipwayd's own docker config, never in the user's.
    const std::string home = contentOf(Poco::Environment::get("HOME", "/root") + "/.docker/config.json");
    EXPECT_EQ(home.find(registry_->host()), std::string::npos) << "~/.docker/config.json was changed:\n" << home;
    if (GetParam() == "cli") {
        EXPECT_NE(contentOf(daemonDir() + "/state/docker/config.json").find(registry_->host()), std::string::npos);
        struct stat info {};
        ASSERT_EQ(::stat((daemonDir() + "/state/docker").c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 0777, 0700u) << "the folder holding the login is open to others";
    }
}

TEST_P(RegistryAuth, AWrongPasswordFailsTheBuildWithoutShowingEitherPassword) {
    const std::string wrong = "Wrong-Pa55word-Also-Secret";
    const std::string name = unique("refused");
    const Poco::JSON::Object::Ptr build = buildWith(name, wrong);
    EXPECT_EQ(build->getValue<std::string>("state"), "failed");
    const std::string error = build->isNull("error") ? "" : build->getValue<std::string>("error");
    // Which step failed and where, in either backend's words, and why.
    EXPECT_NE(error.find(registry_->host()), std::string::npos) << error;
    EXPECT_NE(Poco::toLower(error).find("unauthorized"), std::string::npos) << error;
    const std::string log = logOf(build);
    for (const std::string& secret : {wrong, std::string(kPassword)}) {
        EXPECT_EQ(error.find(secret), std::string::npos) << error;
        EXPECT_EQ(log.find(secret), std::string::npos) << log;
        EXPECT_EQ(daemon_->output().find(secret), std::string::npos);
    }
    EXPECT_TRUE(registry_->tags(name).empty());
    EXPECT_FALSE(DockerEngine::imageExists(registry_->host() + "/" + name + ":1"));
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryAuth, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
