#include "daemon/settings.h"

#include <sstream>

#include <gtest/gtest.h>
#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

class SettingsTest : public ::testing::Test {
protected:
    Settings load(const std::string& ini) {
        std::istringstream in(ini);
        Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(in));
        return loadSettings(*config);
    }

    std::string errorOf(const std::string& ini) {
        try {
            load(ini);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    }

    std::string minimal() {
        return "[webhook]\nsecret_file = " + secret_ + "\n[registry]\nhost = localhost:5443\n";
    }

    testing::TempDir dir_;
    std::string secret_ = dir_.write("webhook.secret", "s3cret\n");
};

TEST_F(SettingsTest, ReadsTheDesignExampleWithItsInlineComments) {
    const Settings s = load(
        "[server]\nlisten = 127.0.0.1:8080          ; add tls_certificate / tls_key to serve HTTPS\n"
        "[webhook]\nsecret_file = " + secret_ + "\nmax_body_bytes = 26214400\n"
        "[registry]\nhost = localhost:5443            ; username / password_file when it needs auth\n"
        "[builder]\nbackend = cli                    ; cli | api\nconcurrency = 2\nkeep_images = false\n"
        "[storage]\nstate_dir = /var/lib/slipway     ; slipway.db, logs/, repos/, work/\n"
        "[repo.exam]                      ; one section per repository, any alias\n"
        "name = yosoyafa/sd2018b-exam2    ; the GitHub full_name the webhook carries\n"
        "url = https://github.com/yosoyafa/sd2018b-exam2.git\n"
        "events = pull_request            ; pull_request and/or push\n"
        "branches = main                  ; base branches that trigger builds\n");
    EXPECT_EQ(s.listenHost, "127.0.0.1");
    EXPECT_EQ(s.listenPort, 8080);
    EXPECT_EQ(s.webhookSecret, "s3cret");
    EXPECT_EQ(s.maxBodyBytes, 26214400u);
    EXPECT_EQ(s.registryHost, "localhost:5443");
    EXPECT_EQ(s.concurrency, 2u);
    EXPECT_FALSE(s.keepImages);
    EXPECT_EQ(s.stateDir, "/var/lib/slipway");
    ASSERT_EQ(s.repos.size(), 1u);
    EXPECT_EQ(s.repos[0].alias, "exam");
    EXPECT_EQ(s.repos[0].name, "yosoyafa/sd2018b-exam2");
    EXPECT_TRUE(s.repos[0].onPullRequest);
    EXPECT_FALSE(s.repos[0].onPush);
    EXPECT_EQ(s.repos[0].branches, std::vector<std::string>{"main"});
    EXPECT_EQ(s.repoByName("YOSOYAFA/sd2018b-exam2"), &s.repos[0]);
}

TEST_F(SettingsTest, NamesTheBadKey) {
    EXPECT_EQ(errorOf("[registry]\nhost = localhost:5443\n"), "webhook.secret_file: required");
    EXPECT_NE(errorOf(minimal() + "[builder]\nconcurrency = lots\n").find("builder.concurrency"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[builder]\nconcurrency = 0\n").find("builder.concurrency"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[builder]\nkeep_images = maybe\n").find("builder.keep_images"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[builder]\nbackend = podman\n").find("builder.backend"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[server]\nlisten = 8080\n").find("server.listen"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[storage]\nstate_dir = relative\n").find("storage.state_dir"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[repo.x]\nurl = file:///x\n").find("repo.x.name: required"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[repo.x]\nname = a/b\nurl = file:///x\nevents = issues\n").find("repo.x.events"),
              std::string::npos);
    EXPECT_NE(errorOf("[webhook]\nsecret_file = " + secret_ + "\n[registry]\nhost = https://x\n").find("registry.host"),
              std::string::npos);
}

TEST_F(SettingsTest, TakesTheApiBackendWithAnEngineAddressItCanReach) {
    EXPECT_EQ(load(minimal() + "[builder]\nbackend = api\n").backend, "api");
    const Settings tcp = load(minimal() + "[builder]\nbackend = api\ndocker_host = tcp://127.0.0.1:2375\n");
    EXPECT_EQ(tcp.dockerHost, "tcp://127.0.0.1:2375");
    EXPECT_EQ(errorOf(minimal() + "[builder]\nbackend = api\ndocker_host = ssh://me@host\n"),
              "builder.docker_host: expected unix:///path/to/docker.sock or tcp://host:port, got 'ssh://me@host'");
    // The CLI understands more DOCKER_HOST forms than the API backend does.
    EXPECT_EQ(load(minimal() + "[builder]\nbackend = cli\ndocker_host = ssh://me@host\n").dockerHost, "ssh://me@host");
    EXPECT_EQ(errorOf(minimal() + "[builder]\nbackend = podman\n"), "builder.backend: unknown backend 'podman' (cli | api)");
}

TEST_F(SettingsTest, ReadsTheRegistryPasswordFromItsFile) {
    const std::string password = dir_.write("registry.password", "pa55word\n");
    const Settings s = load(minimal() + "username = ci-bot\npassword_file = " + password + "\n");
    EXPECT_EQ(s.registryUser, "ci-bot");
    EXPECT_EQ(s.registryPassword, "pa55word");
    EXPECT_EQ(errorOf(minimal() + "username = ci-bot\n"), "registry.password_file: required");
}

TEST_F(SettingsTest, RefusesAnEmptyOrMissingSecret) {
    const std::string empty = dir_.write("empty.secret", " \n");
    EXPECT_NE(errorOf("[webhook]\nsecret_file = " + empty + "\n[registry]\nhost = r\n").find("is empty"),
              std::string::npos);
    EXPECT_NE(errorOf("[webhook]\nsecret_file = /nonexistent/secret\n[registry]\nhost = r\n").find("cannot read"),
              std::string::npos);
}

TEST_F(SettingsTest, NeverPutsTheSecretInAnError) {
    const std::string error = errorOf(minimal() + "[builder]\nconcurrency = x\n");
    EXPECT_EQ(error.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace slipway
