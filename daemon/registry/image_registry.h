#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/platform.h"

namespace slipway {

// A registry request that failed; `transient()` when the registry could not
// be reached or answered 5xx (worth trying again), not when it refused.
class RegistryError : public std::runtime_error {
public:
    RegistryError(const std::string& what, bool transient) : std::runtime_error(what), transient_(transient) {}
    bool transient() const { return transient_; }

private:
    bool transient_;
};

// What a tag names in the registry.
struct PublishedImage {
    std::string digest;                         // of the manifest (or index) the tag names
    std::map<std::string, std::string> labels;  // the image configuration's Labels; empty for an index
    bool index = false;                         // a manifest list or OCI image index, not one image
    // An index: each platform it names ("linux/arm64") and that image's digest.
    std::map<std::string, std::string> platformDigests;
};

// One platform's image in a repository, as an index names it.
struct PlatformImage {
    Platform platform;      // as its configuration says it was built
    std::string digest;     // of its manifest
    std::string mediaType;  // of its manifest
    std::size_t size = 0;   // of its manifest, in bytes
};

// The registry as the release rules see it: what a tag holds, read through
// the registry's HTTP API v2 (manifest, then configuration blob), moving a
// tag to what another names, and writing the index of a multi-platform image. Written for the test: the pipeline's unit
// tests use a fake, the integration tests the real registry.
class ImageRegistry {
public:
    virtual ~ImageRegistry() = default;

    // What `repository:tag` names now; nullopt when the tag does not exist.
    // Throws RegistryError.
    virtual std::optional<PublishedImage> find(const std::string& repository, const std::string& tag) = 0;

    // Points `repository:toTag` at the manifest `repository:fromTag` names,
    // inside the registry (nothing is pulled or pushed again). Throws RegistryError.
    virtual void retag(const std::string& repository, const std::string& fromTag, const std::string& toTag) = 0;

    // The image manifest `repository@digest`, and the platform its
    // configuration says it was built for. Throws RegistryError.
    virtual PlatformImage describe(const std::string& repository, const std::string& digest) = 0;

    // Points `repository:tag` at an index naming `images` (each one already
    // in `repository`), one per platform; returns the index's digest. Throws
    // RegistryError.
    virtual std::string publishIndex(const std::string& repository, const std::string& tag,
                                     const std::vector<PlatformImage>& images) = 0;
};

}  // namespace slipway
