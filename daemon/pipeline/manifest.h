#pragma once

#include <cstddef>
#include <stdexcept>
#include <map>
#include <string>
#include <vector>

#include "backends/platform.h"

namespace slipway {

// images.json cannot be used at all; what() says what and where.
class ManifestError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One entry of images.json. A valid one has an empty `error`; an invalid one
// fails only its own service, with `error` saying why.
struct ServiceEntry {
    std::string name;     // service_name: folder, context and image repository
    std::string version;  // the image tag, immutable once published
    // "dockerfile": the Dockerfile's path inside the service folder.
    std::string dockerfile = "Dockerfile";
    // "build_args": --build-arg NAME=VALUE for each, sorted by name.
    std::map<std::string, std::string> buildArgs;
    // "tags": further tags (such as "latest") that move to this image on every merge.
    std::vector<std::string> tags;
    // "platforms": the platforms to build for, in the order given; empty when
    // the entry names none (builder.platforms, or the engine's own, then apply).
    std::vector<Platform> platforms;
    std::string error;
};

// The largest images.json slipway reads; anything bigger is refused unread.
inline constexpr std::size_t kMaxManifestBytes = 1024 * 1024;

// Parses and validates images.json (docs/architecture.md states the format):
// service_name, type and version are required; dockerfile, build_args, tags
// and platforms are optional; any other key is an error naming it unless it starts
// with "x-" (kept for tools of the team's own). Throws ManifestError when the
// text is too large, not JSON, nested too deep, or not an array.
std::vector<ServiceEntry> parseManifest(const std::string& text);

// With more than one platform, each one's image is pushed as
// <version>-<os>-<arch> before the index names it, and that must be a tag
// too: empty when it is for every platform, otherwise what is wrong.
std::string platformTagProblem(const std::string& version, const std::vector<Platform>& platforms);

}  // namespace slipway
