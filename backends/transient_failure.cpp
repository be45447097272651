#include "backends/transient_failure.h"

#include <Poco/String.h>

namespace slipway {
namespace {

bool containsAny(const std::string& message, std::initializer_list<const char*> needles) {
    const std::string lower = Poco::toLower(message);
    for (const char* needle : needles) {
        if (lower.find(needle) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

FailureKind failureKindOf(const std::string& message) {
    if (engineUnreachable(message)) return FailureKind::EngineUnreachable;
    if (registryUnavailable(message)) return FailureKind::RegistryUnavailable;
    if (imageVanished(message)) return FailureKind::ImageVanished;
    if (containsAny(message, {"unauthorized", "denied", "authentication required"})) {
        return FailureKind::CredentialsRefused;
    }
    return FailureKind::Other;
}

bool engineUnreachable(const std::string& message) {
    // The docker CLI's words, then the API backend's own.
    return containsAny(message, {"cannot connect to the docker daemon", "is the docker daemon running",
                                 "cannot reach the docker engine", "lost the docker engine"});
}

bool registryUnavailable(const std::string& message) {
    if (containsAny(message, {"unauthorized", "denied", "authentication required", "not found"})) return false;
    return containsAny(message, {"connection refused", "connection reset", "broken pipe", "i/o timeout",
                                 "tls handshake timeout", "unexpected eof", "no route to host",
                                 "500 internal server error", "502 bad gateway", "503 service unavailable",
                                 "504 gateway", "received unexpected http status: 5", "server misbehaving"});
}

bool imageVanished(const std::string& message) {
    // The engine's words (API backend), then the docker CLI's.
    return containsAny(message, {"could not find image from tag", "failed to get digest", "no such image",
                                 "unable to find image", "tag does not exist",
                                 "an image does not exist locally with the tag"});
}

}  // namespace slipway
