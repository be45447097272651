#include "daemon/webhook_verifier.h"

#include <openssl/crypto.h>

#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

namespace slipway {
namespace {

// Poco's HMACEngine wants the block and digest sizes as class constants.
class SHA256Engine : public Poco::SHA2Engine {
public:
    enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
    SHA256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

}  // namespace

std::string signatureFor(const std::string& secret, const std::string& body) {
    Poco::HMACEngine<SHA256Engine> hmac(secret);
    hmac.update(body);
    return "sha256=" + Poco::DigestEngine::digestToHex(hmac.digest());
}

bool verifySignature(const std::string& secret, const std::string& body,
                     const std::string& signatureHeader) {
    const std::string expected = signatureFor(secret, body);
    if (signatureHeader.size() != expected.size()) return false;  // the length is no secret
    return CRYPTO_memcmp(expected.data(), signatureHeader.data(), expected.size()) == 0;
}

}  // namespace slipway
