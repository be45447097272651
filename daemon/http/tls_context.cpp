#include "daemon/http/tls_context.h"

#include <Poco/Crypto/X509Certificate.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <memory>

#include "daemon/config/settings.h"

namespace slipway {
namespace {

// Mozilla's "intermediate" TLS 1.2 list (TLS 1.3 suites are OpenSSL's
// defaults, all of them fine): ECDHE or DHE key exchange, AES-GCM or ChaCha20.
// GitHub's webhook client and every current curl, browser and Go client speak these.
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

}  // namespace

Poco::Net::Context::Ptr makeServerTlsContext(const std::string& certificateFile, const std::string& keyFile) {
    // Parsed on their own first, so that the error names the file that is wrong.
    try {
        Poco::Crypto::X509Certificate certificate(certificateFile);
    } catch (const Poco::Exception& e) {
        throw ConfigError("server.tls_certificate: " + certificateFile + " is not a PEM certificate: " +
                          e.displayText());
    }
    // OpenSSL directly rather than Poco's EVPPKey, which leaks when the file is not a key.
    const std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(keyFile.c_str(), "r"), BIO_free);
    if (!file) throw ConfigError("server.tls_key: cannot read " + keyFile);
    // No passphrase: an encrypted key is refused instead of prompting on a terminal.
    auto noPassphrase = [](char*, int, int, void*) { return 0; };
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(file.get(), nullptr, noPassphrase, nullptr), EVP_PKEY_free);
    if (!key) {
        const unsigned long code = ERR_get_error();
        ERR_clear_error();
        const char* reason = code ? ERR_reason_error_string(code) : nullptr;
        throw ConfigError("server.tls_key: " + keyFile + " is not an unencrypted PEM private key" +
                          (reason ? std::string(": ") + reason : std::string()));
    }
    Poco::Net::Context::Params params;
    params.certificateFile = certificateFile;
    params.privateKeyFile = keyFile;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    params.loadDefaultCAs = false;
    params.cipherList = kCiphers;
    params.dhUse2048Bits = true;
    Poco::Net::Context::Ptr context;
    try {
        context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    } catch (const Poco::Exception& e) {
        throw ConfigError("server.tls_certificate, server.tls_key: cannot use " + certificateFile + " with " + keyFile +
                          ": " + e.displayText());
    }
    // OpenSSL takes a key that does not match the certificate without a word,
    // and every handshake would fail later.
    if (SSL_CTX_check_private_key(context->sslContext()) != 1) {
        throw ConfigError("server.tls_key: " + keyFile + " cannot serve " + certificateFile +
                          ": it is not the certificate's private key");
    }
    context->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                              Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    context->preferServerCiphers();
    // The front door writes to non-blocking sockets: a write may take part of
    // an answer, and the rest is sent later from a buffer that may have moved.
    // Idle connections give their read and write buffers back (~34 KB each).
    SSL_CTX_set_mode(context->sslContext(),
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    return context;
}

}  // namespace slipway
