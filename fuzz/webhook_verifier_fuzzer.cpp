// libFuzzer target: verifySignature never accepts a header that is not the
// body's HMAC, always accepts the one that is, and never crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/github/webhook_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // secret | header | body, split by the first two bytes.
    if (size < 2) return 0;
    const std::string rest(reinterpret_cast<const char*>(data + 2), size - 2);
    const std::size_t secretEnd = std::min<std::size_t>(data[0], rest.size());
    const std::size_t headerEnd = std::min<std::size_t>(secretEnd + data[1], rest.size());
    const std::string secret = rest.substr(0, secretEnd);
    const std::string header = rest.substr(secretEnd, headerEnd - secretEnd);
    const std::string body = rest.substr(headerEnd);

    const std::string expected = slipway::signatureFor(secret, body);
    if (!slipway::verifySignature(secret, body, expected)) __builtin_trap();
    if (slipway::verifySignature(secret, body, header) != (header == expected)) __builtin_trap();
    return 0;
}
