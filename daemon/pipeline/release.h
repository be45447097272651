#pragma once

#include <map>
#include <optional>
#include <string>

#include "daemon/registry/image_registry.h"

namespace slipway {

// The labels slipway sets on every image it builds: the OCI ones anyone can
// read, and its own, from which the next merge learns what the published tag
// was made from (the registry is the truth, not slipway's database).
inline constexpr const char* kLabelRevision = "org.opencontainers.image.revision";  // the commit
inline constexpr const char* kLabelSource = "org.opencontainers.image.source";      // the repository's URL
inline constexpr const char* kLabelVersion = "org.opencontainers.image.version";    // images.json's version
inline constexpr const char* kLabelCreated = "org.opencontainers.image.created";    // RFC 3339 UTC
inline constexpr const char* kLabelContentKey = "io.slipway.content-key";          // see content_key.h
inline constexpr const char* kLabelTree = "io.slipway.tree";                        // the service folder's tree
inline constexpr const char* kLabelBuild = "io.slipway.build";                      // slipway's build id
inline constexpr const char* kLabelInstance = "io.slipway.instance";                // the state folder's id (Store::instanceId)

// What to do with one service of a merge, given what its tag holds now.
enum class ReleaseAction {
    Build,   // the tag is absent: build and push
    Reuse,   // the tag holds this very content: record its digest, build nothing
    Refuse,  // the tag holds other content (or an image slipway did not make): fail, saying what to do
};

struct ReleaseDecision {
    ReleaseAction action = ReleaseAction::Build;
    std::string digest;  // Reuse: the registry's digest of the tag
    std::string reason;  // Refuse: the build's error; Reuse: the log's line
};

// What this merge would publish of one service.
struct ReleaseCandidate {
    std::string service;
    std::string version;
    std::string contentKey;
    std::string tree;  // the service folder's tree id
};

// The release rule for one service with the tag `published` holds (nullopt:
// absent). Pure, so that every case is a unit test.
ReleaseDecision decideRelease(const ReleaseCandidate& candidate, const std::optional<PublishedImage>& published);

}  // namespace slipway
