#include <sstream>

#include <gtest/gtest.h>

#include "backends/process_runner.h"
#include "tests/support/temp_dir.h"

namespace slipway::testing {
namespace {

// `slipwayd --check-config`, as an operator runs it before restarting the daemon.
class CheckConfig : public ::testing::Test {
protected:
    // Runs slipwayd --check-config on `ini`; returns its exit status, with what it said in `output`.
    int check(const std::string& ini, std::string& output, const std::map<std::string, std::string>& env = {}) {
        const std::string path = dir_.write("slipway.ini", ini);
        std::ostringstream out;
        const ProcessResult result =
            runProcess(SLIPWAYD_PATH, {"--config", path, "--check-config"}, out, std::chrono::seconds(30), env);
        output = out.str();
        return result.exitCode;
    }

    std::string valid() {
        return "[server]\nlisten = 127.0.0.1:18080\n[webhook]\nsecret_file = " + dir_.write("secret", "s\n") +
               "\n[registry]\nhost = localhost:5443\n[storage]\nstate_dir = " + dir_.path() + "/state\n";
    }

    TempDir dir_;
};

TEST_F(CheckConfig, AcceptsAValidFileWithoutStartingAnything) {
    std::string output;
    EXPECT_EQ(check(valid(), output), 0) << output;
    EXPECT_NE(output.find("ok (http on 127.0.0.1:18080, 0 repositories)"), std::string::npos) << output;
    EXPECT_FALSE(Poco::File(dir_.path() + "/state").exists()) << "--check-config made the state folder";
}

TEST_F(CheckConfig, NamesATypoedKeyAndExitsWithExConfig) {
    std::string output;
    EXPECT_EQ(check(valid() + "[builder]\nconcurency = 2\n", output), 78) << output;
    EXPECT_NE(output.find("builder.concurency: unknown key"), std::string::npos) << output;
}

TEST_F(CheckConfig, ReadsTheSecretFiles) {
    std::string output;
    EXPECT_EQ(check(valid() + "[api]\ntoken_file = /nonexistent/api.token\n", output), 78) << output;
    EXPECT_NE(output.find("api.token_file: cannot read /nonexistent/api.token"), std::string::npos) << output;
}

TEST_F(CheckConfig, FindsCredentialsWhereSystemdPutsThem) {
    const std::string credentials = dir_.path() + "/credentials";
    dir_.write("credentials/api.token", "t0ken\n");
    std::string output;
    EXPECT_EQ(check(valid() + "[api]\ntoken_file = api.token\n", output, {{"CREDENTIALS_DIRECTORY", credentials}}), 0)
        << output;
    EXPECT_EQ(check(valid() + "[api]\ntoken_file = api.token\n", output, {{"CREDENTIALS_DIRECTORY", ""}}), 78) << output;
    EXPECT_NE(output.find("api.token_file: 'api.token' is a credential name"), std::string::npos) << output;
}

TEST_F(CheckConfig, LoadsTheCaFileCommitStatusesTrust) {
    std::string output;
    const std::string garbage = dir_.write("ghes-ca.pem", "not a certificate\n");
    EXPECT_EQ(check(valid() + "[github]\nca_file = " + garbage + "\n", output), 78) << output;
    EXPECT_NE(output.find("github.ca_file: cannot load " + garbage + " as PEM certificates"), std::string::npos)
        << output;
}

TEST_F(CheckConfig, LoadsTheTlsCertificateAndKey) {
    std::string output;
    const std::string other = dir_.write("other.key", "");
    std::ostringstream made;
    ASSERT_EQ(runProcess("openssl",
                         {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                          "-keyout", dir_.path() + "/tls.key", "-out", dir_.path() + "/tls.crt"},
                         made, std::chrono::seconds(60))
                  .exitCode,
              0)
        << made.str();
    const std::string tls = "tls_certificate = " + dir_.path() + "/tls.crt\ntls_key = " + dir_.path() + "/tls.key\n";
    EXPECT_EQ(check(valid() + "[server]\n" + tls, output), 0) << output;
    EXPECT_NE(output.find("ok (https on"), std::string::npos) << output;
    EXPECT_EQ(check(valid() + "[server]\ntls_certificate = " + dir_.path() + "/tls.crt\n", output), 78) << output;
    EXPECT_NE(output.find("server.tls_key: required"), std::string::npos) << output;
    EXPECT_EQ(check(valid() + "[server]\ntls_certificate = " + dir_.path() + "/tls.crt\ntls_key = " + other + "\n", output),
              78)
        << output;
    EXPECT_NE(output.find("server.tls_key: " + other), std::string::npos) << output;
}

}  // namespace
}  // namespace slipway::testing
