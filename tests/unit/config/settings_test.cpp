#include "daemon/config/settings.h"

#include <sstream>

#include <gtest/gtest.h>
#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

class SettingsTest : public ::testing::Test {
protected:
    Settings load(const std::string& ini, const std::string& credentialsDir = "") {
        std::istringstream in(ini);
        Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(in));
        return loadSettings(*config, credentialsDir);
    }

    std::string errorOf(const std::string& ini, const std::string& credentialsDir = "") {
        try {
            load(ini, credentialsDir);
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
    EXPECT_EQ(repoByName(s.repos, "YOSOYAFA/sd2018b-exam2"), &s.repos[0]);
}

TEST_F(SettingsTest, NamesTheBadKey) {
    EXPECT_EQ(errorOf("[registry]\nhost = localhost:5443\n"), "webhook.secret_file: required");
    EXPECT_NE(errorOf(minimal() + "[builder]\nconcurrency = lots\n").find("builder.concurrency"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[builder]\nconcurrency = 0\n").find("builder.concurrency"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[builder]\nkeep_images = maybe\n").find("builder.keep_images"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[builder]\nbackend = podman\n").find("builder.backend"), std::string::npos);
    const std::string singleLabel = errorOf("[webhook]\nsecret_file = " + secret_ + "\n[registry]\nhost = registry\n");
    EXPECT_EQ(singleLabel.rfind("registry.host: 'registry' has no '.' or ':' and is not localhost, so Docker would "
                                "read it as a Docker Hub namespace",
                                0),
              0u)
        << singleLabel;
    EXPECT_EQ(errorOf(minimal() + "[builder]\nrepublish = always\n"),
              "builder.republish: unknown value 'always' (refuse | overwrite)");
    EXPECT_NE(errorOf(minimal() + "[server]\nlisten = 8080\n").find("server.listen"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[storage]\nstate_dir = relative\n").find("storage.state_dir"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[repo.x]\nurl = file:///x\n").find("repo.x.name: required"), std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[repo.x]\nname = a/b\nurl = file:///x\nevents = issues\n").find("repo.x.events"),
              std::string::npos);
    const std::string withToken = errorOf(minimal() + "[repo.x]\nname = a/b\nurl = https://x:ghp_secret@github.com/a/b.git\n");
    EXPECT_NE(withToken.find("repo.x.url: must not carry credentials"), std::string::npos) << withToken;
    EXPECT_EQ(withToken.find("ghp_secret"), std::string::npos);
    EXPECT_NE(errorOf("[webhook]\nsecret_file = " + secret_ + "\n[registry]\nhost = https://x\n").find("registry.host"),
              std::string::npos);
}

TEST_F(SettingsTest, ReadsTheDefaultPlatforms) {
    EXPECT_TRUE(load(minimal()).platforms.empty()) << "the engine's own platform unless told";
    const Settings s = load(minimal() + "[builder]\nplatforms = linux/amd64, linux/arm64\n");
    ASSERT_EQ(s.platforms.size(), 2u);
    EXPECT_EQ(s.platforms[1].text(), "linux/arm64");
    EXPECT_EQ(errorOf(minimal() + "[builder]\nplatforms = linux/amd64 linux/aarch64\n"),
              "builder.platforms: \"linux/aarch64\": unknown architecture \"aarch64\" (Docker calls it arm64); "
              "known: amd64, arm64, arm, 386, ppc64le, s390x, riscv64, mips64le, loong64");
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
    EXPECT_EQ(errorOf(minimal() + "password_file = " + password + "\n"),
              "registry.username: required with registry.password_file");
}

TEST_F(SettingsTest, EachRepositoryIsOneOwnerSlashNameThatBuildsOnSomeEvent) {
    const std::string repo = "[repo.x]\nurl = file:///x\n";
    for (const std::string name : {"org", "org/", "/repo", "a/b/c"}) {
        EXPECT_EQ(errorOf(minimal() + repo + "name = " + name + "\n"),
                  "repo.x.name: expected the GitHub full name owner/repository, got '" + name + "'");
    }
    EXPECT_EQ(errorOf(minimal() + repo + "name = a/b\nevents = ,\n"), "repo.x.events: names no event (pull_request, push)");
    EXPECT_EQ(errorOf(minimal() + repo + "name = a/b\n[repo.y]\nurl = file:///y\nname = A/B\n"),
              "repo.y.name: A/B is already repo.x.name");
    EXPECT_EQ(load(minimal() + repo + "name = a/b\n[repo.y]\nurl = file:///y\nname = a/c\n").repos.size(), 2u);
    for (const std::string url : {"git@github.com:acme/shop.git", "ssh://git@github.com/acme/shop.git"}) {
        EXPECT_EQ(errorOf(minimal() + "[repo.z]\nname = a/b\nurl = " + url + "\n"),
                  "repo.z.url: expected an https:// (or http://, git://, file:// for a local path) URL, got '" + url +
                      "'; ssh is not supported: use the HTTPS URL with repo.z.token_file");
    }
}

TEST_F(SettingsTest, RefusesAnEmptyOrMissingSecret) {
    const std::string empty = dir_.write("empty.secret", " \n");
    EXPECT_NE(errorOf("[webhook]\nsecret_file = " + empty + "\n[registry]\nhost = r:5000\n").find("is empty"),
              std::string::npos);
    EXPECT_NE(errorOf("[webhook]\nsecret_file = /nonexistent/secret\n[registry]\nhost = r:5000\n").find("cannot read"),
              std::string::npos);
}

TEST_F(SettingsTest, NeverPutsTheSecretInAnError) {
    const std::string error = errorOf(minimal() + "[builder]\nconcurrency = x\n");
    EXPECT_EQ(error.find("s3cret"), std::string::npos);
}

TEST_F(SettingsTest, NamesAnUnknownKeyInAKnownSection) {
    const std::string error = errorOf(minimal() + "[builder]\nconcurency = 2\n");
    EXPECT_EQ(error.rfind("builder.concurency: unknown key", 0), 0u) << error;
    EXPECT_NE(error.find("concurrency"), std::string::npos) << "lists the keys [builder] knows: " << error;
    EXPECT_NE(errorOf(minimal() + "[repo.x]\nname = a/b\nurl = file:///x\nbranch = main\n").find("repo.x.branch: unknown key"),
              std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[server]\nlisten = 127.0.0.1:1\ntls_cert = c.pem\n").find("server.tls_cert: unknown key"),
              std::string::npos);
}

TEST_F(SettingsTest, NamesEveryUnknownKeyAndSectionAtOnce) {
    const std::string error = errorOf(minimal() + "[builder]\nconcurency = 2\nkeep_image = true\n[buidler]\nbackend = cli\n");
    EXPECT_NE(error.find("builder.concurency: unknown key"), std::string::npos) << error;
    EXPECT_NE(error.find("builder.keep_image: unknown key"), std::string::npos) << error;
    EXPECT_NE(error.find("[buidler]: unknown section"), std::string::npos) << error;
}

TEST_F(SettingsTest, AnUnknownKeyIsNamedBeforeTheMissingOneItWasMeantToBe) {
    EXPECT_EQ(errorOf("[webhook]\nsecret_fle = " + secret_ + "\n[registry]\nhost = r:5000\n").rfind("webhook.secret_fle: unknown key", 0),
              0u);
}

TEST_F(SettingsTest, ABareFileNameIsACredentialInTheCredentialsDirectory) {
    testing::TempDir credentials;
    credentials.write("webhook.secret", "from-systemd\n");
    credentials.write("api.token", "token-from-systemd\n");
    credentials.write("exam.token", "repo-token\n");
    const Settings s = load("[webhook]\nsecret_file = webhook.secret\n[registry]\nhost = r:5000\n"
                            "[api]\ntoken_file = api.token\n"
                            "[repo.exam]\nname = a/b\nurl = file:///x\ntoken_file = exam.token\n",
                            credentials.path());
    EXPECT_EQ(s.webhookSecret, "from-systemd");
    EXPECT_EQ(s.apiToken, "token-from-systemd");
    ASSERT_EQ(s.repos.size(), 1u);
    EXPECT_EQ(s.repos[0].token, "repo-token");
}

TEST_F(SettingsTest, AnAbsolutePathIgnoresTheCredentialsDirectory) {
    testing::TempDir credentials;
    credentials.write("webhook.secret", "from-systemd\n");
    EXPECT_EQ(load(minimal(), credentials.path()).webhookSecret, "s3cret");
}

TEST_F(SettingsTest, ABareFileNameWithoutCredentialsDirectoryNamesTheKey) {
    const std::string error = errorOf("[webhook]\nsecret_file = webhook.secret\n[registry]\nhost = r:5000\n");
    EXPECT_EQ(error.rfind("webhook.secret_file: 'webhook.secret' is a credential name", 0), 0u) << error;
    EXPECT_NE(error.find("$CREDENTIALS_DIRECTORY"), std::string::npos) << error;

    testing::TempDir credentials;
    EXPECT_NE(errorOf(minimal() + "[api]\ntoken_file = api.token\n", credentials.path())
                  .find("api.token_file: cannot read " + credentials.path() + "/api.token"),
              std::string::npos);
    EXPECT_NE(errorOf(minimal() + "[api]\ntoken_file = ../api.token\n", credentials.path()).find("api.token_file: expected"),
              std::string::npos);
}

TEST_F(SettingsTest, ARepositoryWithATokenReportsCommitStatusesUnlessToldNot) {
    const std::string token = dir_.write("gh.token", "ghp_example\n");
    const std::string repo = "[repo.a]\nname = acme/a\nurl = https://github.com/acme/a.git\n";
    EXPECT_FALSE(load(minimal() + repo).repos[0].commitStatuses);
    const Settings s = load(minimal() + repo + "token_file = " + token + "\n");
    EXPECT_TRUE(s.repos[0].commitStatuses);
    EXPECT_EQ(s.github.apiUrl, "https://api.github.com");
    EXPECT_EQ(s.github.contextPrefix, "slipway");
    EXPECT_EQ(s.publicUrl, "");
    EXPECT_FALSE(load(minimal() + repo + "token_file = " + token + "\ncommit_statuses = false\n").repos[0].commitStatuses);
    EXPECT_EQ(errorOf(minimal() + repo + "commit_statuses = true\n"),
              "repo.a.commit_statuses: needs repo.a.token_file, a token that may write commit statuses");
}

TEST_F(SettingsTest, ReadsWhereCommitStatusesGoAndWhereTheyLink) {
    const std::string ca = dir_.write("ghes-ca.pem", "not parsed here\n");
    const Settings s = load(minimal() + "[server]\npublic_url = https://ci.example.com/\n[github]\napi_url = "
                            "https://github.example.com/api/v3\nca_file = " + ca + "\ncontext_prefix = ci\n");
    EXPECT_EQ(s.publicUrl, "https://ci.example.com");
    EXPECT_EQ(s.github.apiUrl, "https://github.example.com/api/v3");
    EXPECT_EQ(s.github.caFile, ca);
    EXPECT_EQ(s.github.contextPrefix, "ci");
    EXPECT_EQ(errorOf(minimal() + "[github]\napi_url = http://github.example.com/api/v3\n"),
              "github.api_url: expected an https:// URL (the token travels to it), got "
              "'http://github.example.com/api/v3'");
    EXPECT_EQ(errorOf(minimal() + "[server]\npublic_url = ci.example.com\n"),
              "server.public_url: expected an http(s):// URL, got 'ci.example.com'");
    EXPECT_EQ(errorOf(minimal() + "[github]\napi_url = https://x:ghp_secret@github.example.com\n"),
              "github.api_url: must not carry credentials (user:password@)");
    EXPECT_EQ(errorOf(minimal() + "[github]\ncontext_prefix =\n"),
              "github.context_prefix: expected 1 to 100 characters, got ''");
}

TEST_F(SettingsTest, ReadsHowLongHistoryIsKept) {
    EXPECT_EQ(load(minimal()).keepDays, 90);
    EXPECT_EQ(load(minimal()).keepBuilds, 0);
    const Settings s = load(minimal() + "[storage]\nkeep_days = 0\nkeep_builds = 500\n");
    EXPECT_EQ(s.keepDays, 0);
    EXPECT_EQ(s.keepBuilds, 500);
    EXPECT_NE(errorOf(minimal() + "[storage]\nkeep_days = -1\n").find("storage.keep_days"), std::string::npos);
}

TEST_F(SettingsTest, StoresInSqliteUnlessToldPostgresWithAUrlAndAPasswordFile) {
    const Settings embedded = load(minimal());
    EXPECT_EQ(embedded.storage, StorageBackend::Sqlite);
    EXPECT_FALSE(embedded.node.empty()) << "the host name";
    EXPECT_EQ(embedded.lease, std::chrono::seconds(60));

    const std::string password = dir_.write("pg.password", "pg-s3cret\n");
    const Settings shared = load(minimal() +
                                 "[storage]\nbackend = postgres\nurl = host=db.internal dbname=slipway user=slipway\n"
                                 "password_file = " + password + "\n[cluster]\nnode = build-1\nlease = 20\n");
    EXPECT_EQ(shared.storage, StorageBackend::Postgres);
    EXPECT_EQ(shared.postgresUrl, "host=db.internal dbname=slipway user=slipway");
    EXPECT_EQ(shared.postgresPassword, "pg-s3cret");
    EXPECT_EQ(shared.node, "build-1");
    EXPECT_EQ(shared.lease, std::chrono::seconds(20));
    EXPECT_EQ(load(minimal() + "[storage]\nbackend = postgres\nurl = postgresql://slipway@db.internal/slipway\n")
                  .postgresUrl,
              "postgresql://slipway@db.internal/slipway");
}

TEST_F(SettingsTest, RefusesAPostgresUrlThatHoldsAPasswordOrIsNotOne) {
    EXPECT_EQ(errorOf(minimal() + "[storage]\nbackend = postgres\nurl = host=db password=hunter2\n"),
              "storage.url: holds a password; put it in storage.password_file (or a credential) instead");
    EXPECT_EQ(errorOf(minimal() + "[storage]\nbackend = postgres\nurl = postgresql://u:hunter2@db/slipway\n"),
              "storage.url: holds a password; put it in storage.password_file (or a credential) instead");
    EXPECT_EQ(errorOf(minimal() + "[storage]\nbackend = postgres\nurl = host=db hunter2\n"),
              "storage.url: not a libpq connection string (key=value pairs) or URI (postgresql://...)")
        << "libpq's message would have quoted the password";
    EXPECT_EQ(errorOf(minimal() + "[storage]\nbackend = postgres\n"), "storage.url: required");
    EXPECT_EQ(errorOf(minimal() + "[storage]\nbackend = mysql\n"),
              "storage.backend: unknown backend 'mysql' (sqlite | postgres)");
    EXPECT_EQ(errorOf(minimal() + "[storage]\nurl = host=db\n"),
              "storage.url: only read with storage.backend = postgres");
    EXPECT_EQ(errorOf(minimal() + "[cluster]\nnode = build 1\n"),
              "cluster.node: expected 1 to 63 letters, digits, '.', '-' or '_', got 'build 1'");
}

TEST_F(SettingsTest, TlsNeedsBothCertificateAndKey) {
    const std::string certificate = dir_.write("tls.crt", "certificate\n");
    const std::string key = dir_.write("tls.key", "key\n");
    EXPECT_TRUE(load(minimal()).tlsCertificate.empty());
    EXPECT_EQ(errorOf(minimal() + "[server]\ntls_certificate = " + certificate + "\n").rfind("server.tls_key: required", 0), 0u);
    EXPECT_EQ(errorOf(minimal() + "[server]\ntls_key = " + key + "\n").rfind("server.tls_certificate: required", 0), 0u);
    EXPECT_EQ(errorOf(minimal() + "[server]\ntls_certificate = " + certificate + "\ntls_key = /nonexistent/tls.key\n"),
              "server.tls_key: cannot read /nonexistent/tls.key");

    const Settings s = load(minimal() + "[server]\ntls_certificate = " + certificate + "\ntls_key = tls.key\n", dir_.path());
    EXPECT_EQ(s.tlsCertificate, certificate);
    EXPECT_EQ(s.tlsKey, key);
}

TEST_F(SettingsTest, TheShippedExampleIsValidWithThePackagesCredentials) {
    testing::TempDir credentials;
    credentials.write("webhook.secret", "generated-by-postinst\n");
    credentials.write("api.token", "generated-by-postinst-too\n");
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(
        new Poco::Util::IniFileConfiguration(std::string(SLIPWAY_SOURCE_DIR) + "/etc/slipway.ini"));
    const Settings s = loadSettings(*config, credentials.path());
    EXPECT_EQ(s.stateDir, "/var/lib/slipway");
    EXPECT_EQ(s.apiToken, "generated-by-postinst-too");
    EXPECT_TRUE(s.repos.empty());
}

}  // namespace
}  // namespace slipway
