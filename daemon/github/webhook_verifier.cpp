#include "daemon/github/webhook_verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace slipway {

std::string signatureFor(const std::string& secret, const std::string& body) {
    // OpenSSL's SHA-256 rather than Poco's portable one: a webhook body is tens
    // of kilobytes, and Poco's took a tenth of slipwayd's CPU time under load.
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length)) {
        throw std::runtime_error("HMAC-SHA256 of a webhook body failed in OpenSSL");
    }
    static const char* const hex = "0123456789abcdef";
    std::string signature = "sha256=";
    for (unsigned int i = 0; i < length; ++i) {
        signature += hex[digest[i] >> 4];
        signature += hex[digest[i] & 0xf];
    }
    return signature;
}

bool verifySignature(const std::string& secret, const std::string& body,
                     const std::string& signatureHeader) {
    // Before the HMAC of the whole body: a header that cannot match costs
    // nothing (the length is no secret).
    constexpr std::size_t kLength = sizeof "sha256=" - 1 + 2 * 32;
    if (signatureHeader.size() != kLength) return false;
    const std::string expected = signatureFor(secret, body);
    return CRYPTO_memcmp(expected.data(), signatureHeader.data(), expected.size()) == 0;
}

}  // namespace slipway
