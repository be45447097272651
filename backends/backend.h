#pragma once

#include <ostream>
#include <stdexcept>
#include <string>

namespace slipway {

// A build, push or remove that did not succeed; what() says what and why, and
// never carries a credential.
class BackendError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What to build: a Dockerfile inside a context folder, and the tag to give it.
struct BuildRequest {
    std::string contextDir;  // absolute path of the build context
    std::string dockerfile;  // path of the Dockerfile, relative to contextDir
    std::string image;       // <registry>/<service>:<version>
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

    // Throws BackendError unless the engine answers now (for GET /readyz).
    virtual void ping() = 0;
};

}  // namespace slipway
