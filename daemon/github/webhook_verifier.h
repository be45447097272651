#pragma once

#include <string>

namespace slipway {

// True when `signatureHeader` is GitHub's X-Hub-Signature-256 for `body` under
// `secret`: "sha256=" followed by the hex HMAC-SHA256. The comparison takes the
// same time wherever the first difference is.
bool verifySignature(const std::string& secret, const std::string& body,
                     const std::string& signatureHeader);

// The X-Hub-Signature-256 value for `body` under `secret`.
std::string signatureFor(const std::string& secret, const std::string& body);

}  // namespace slipway
