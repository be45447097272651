#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

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
};

// The registry as the release rules see it: what a tag holds, read through
// the registry's HTTP API v2 (manifest, then configuration blob), and moving
// a tag to what another names. Written for the test: the pipeline's unit
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
};

}  // namespace slipway
