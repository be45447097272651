#pragma once

#include <string>

#include <Poco/Net/Context.h>
#include <Poco/Net/NetSSL.h>

namespace slipway {

// Keeps Poco's OpenSSL layer initialised for as long as it lives.
class TlsLibrary {
public:
    TlsLibrary() { Poco::Net::initializeSSL(); }
    ~TlsLibrary() { Poco::Net::uninitializeSSL(); }
    TlsLibrary(const TlsLibrary&) = delete;
    TlsLibrary& operator=(const TlsLibrary&) = delete;
};

// The OpenSSL context slipwayd serves HTTPS with: the certificate chain and
// private key from these PEM files, TLS 1.2 and 1.3 only, forward-secret AEAD
// ciphers, the server's cipher order. No client certificate is asked for:
// GitHub authenticates with the webhook signature, operators with the API token.
// Throws ConfigError naming server.tls_certificate or server.tls_key when a
// file cannot be loaded or the key does not belong to the certificate.
// A TlsLibrary must be alive.
Poco::Net::Context::Ptr makeServerTlsContext(const std::string& certificateFile, const std::string& keyFile);

}  // namespace slipway
