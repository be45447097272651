#include "daemon/http/tls_context.h"

#include <sstream>

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "backends/process_runner.h"
#include "daemon/config/settings.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

class TlsContextTest : public ::testing::Test {
protected:
    // A self-signed certificate for localhost and its key, made by openssl; returns the certificate's path.
    std::string makeCertificate(const std::string& name) {
        const std::string certificate = dir_.path() + "/" + name + ".crt";
        std::ostringstream output;
        const ProcessResult result = runProcess(
            "openssl",
            {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout",
             dir_.path() + "/" + name + ".key", "-out", certificate},
            output, std::chrono::seconds(60));
        EXPECT_EQ(result.exitCode, 0) << output.str();
        return certificate;
    }

    std::string errorOf(const std::string& certificate, const std::string& key) {
        try {
            makeServerTlsContext(certificate, key);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    }

    TlsLibrary tls_;
    testing::TempDir dir_;
};

TEST_F(TlsContextTest, AllowsTls12AndUpOnly) {
    const std::string certificate = makeCertificate("a");
    Poco::Net::Context::Ptr context = makeServerTlsContext(certificate, dir_.path() + "/a.key");
    const long options = static_cast<long>(SSL_CTX_get_options(context->sslContext()));
    EXPECT_TRUE(options & SSL_OP_NO_SSLv3);
    EXPECT_TRUE(options & SSL_OP_NO_TLSv1);
    EXPECT_TRUE(options & SSL_OP_NO_TLSv1_1);
    EXPECT_FALSE(options & SSL_OP_NO_TLSv1_2);
    EXPECT_FALSE(options & SSL_OP_NO_TLSv1_3);
    EXPECT_TRUE(options & SSL_OP_CIPHER_SERVER_PREFERENCE);
    EXPECT_TRUE(context->isForServerUse());
}

TEST_F(TlsContextTest, NamesTheCertificateWhenItIsNotOne) {
    makeCertificate("a");
    const std::string error = errorOf(dir_.write("garbage.crt", "not a certificate\n"), dir_.path() + "/a.key");
    EXPECT_EQ(error.rfind("server.tls_certificate: ", 0), 0u) << error;
}

TEST_F(TlsContextTest, NamesTheKeyWhenItIsNotOne) {
    const std::string certificate = makeCertificate("a");
    const std::string error = errorOf(certificate, dir_.write("garbage.key", "not a key\n"));
    EXPECT_EQ(error.rfind("server.tls_key: ", 0), 0u) << error;
}

TEST_F(TlsContextTest, NamesTheKeyWhenItBelongsToAnotherCertificate) {
    const std::string certificate = makeCertificate("a");
    makeCertificate("b");
    const std::string error = errorOf(certificate, dir_.path() + "/b.key");
    EXPECT_EQ(error.rfind("server.tls_key: " + dir_.path() + "/b.key cannot serve " + certificate, 0), 0u) << error;
}

}  // namespace
}  // namespace slipway
