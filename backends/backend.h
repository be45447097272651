#pragma once

#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/platform.h"

namespace slipway {

// Why a build, push or remove failed, as far as slipway acts on it: the
// pipeline retries on some kinds and never reads the message to decide.
enum class FailureKind {
    EngineUnreachable,    // the engine is down, restarting, its socket gone: worth trying again
    RegistryUnavailable,  // the registry did not answer, or answered 5xx: worth trying again
    ImageVanished,        // an image the step needs (the one to push, a cached layer) was removed meanwhile
    CredentialsRefused,   // the registry refused the credentials or the push (401, 403)
    Other,                // anything else: a Dockerfile that fails, a timeout, a bad answer
};

// A build, push or remove that did not succeed; what() says what and why, and
// never carries a credential. Its kind is set by the backend that saw the
// failure, from what the engine or the docker CLI reported.
class BackendError : public std::runtime_error {
public:
    BackendError(FailureKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    explicit BackendError(const std::string& what) : BackendError(FailureKind::Other, what) {}

    FailureKind kind() const { return kind_; }

private:
    FailureKind kind_;
};

// What to build: a Dockerfile inside a context folder, and the tag to give it.
struct BuildRequest {
    std::string contextDir;  // absolute path of the build context
    std::string dockerfile;  // path of the Dockerfile, relative to contextDir
    std::string image;       // <registry>/<service>:<version>
    std::map<std::string, std::string> buildArgs;  // ARG values: --build-arg NAME=VALUE
    std::map<std::string, std::string> labels;     // set on the image: --label NAME=VALUE
    // The platform to build for (--platform), every base image pulled afresh
    // for it: the engine's local copy of a base may be another platform's.
    // Empty: the engine's own, from the images it has.
    std::string platform;
};

// A tagged image on the engine, with its labels.
struct LocalImage {
    std::string reference;  // repository:tag
    std::map<std::string, std::string> labels;
};

// Turns a context into an image in the registry. Implementations write what the
// engine says to `log` as it happens, and throw BackendError on failure.
class Backend {
public:
    virtual ~Backend() = default;

    // Builds `request.image` from its context.
    virtual void build(const BuildRequest& request, std::ostream& log) = 0;

    // Pushes `image` to its registry; returns the pushed manifest digest (sha256:...).
    virtual std::string push(const std::string& image, std::ostream& log) = 0;

    // Removes the local tag `image`.
    virtual void remove(const std::string& image, std::ostream& log) = 0;

    // The platform the local image `image` was built for, as its
    // configuration names it (see platformNamed).
    virtual Platform imagePlatform(const std::string& image) = 0;

    // The engine's tagged images that carry label `label` with `value`, one
    // per tag.
    virtual std::vector<LocalImage> taggedImages(const std::string& label, const std::string& value) = 0;

    // Throws BackendError unless the engine answers now (for GET /readyz);
    // returns the platform it runs on, the one it builds for natively.
    virtual Platform ping() = 0;

    // Ends every build, push and remove in progress at once: each throws
    // BackendError. For a stop that cannot wait for them; a call that starts
    // afterwards runs normally. Thread-safe.
    virtual void abort() = 0;
};

}  // namespace slipway
