#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

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
    std::string version;  // the image tag
    std::string error;
};

// The largest images.json slipway reads; anything bigger is refused unread.
inline constexpr std::size_t kMaxManifestBytes = 1024 * 1024;

// Parses and validates images.json (docs/architecture.md states the format). Throws ManifestError when
// the text is too large, not JSON, nested too deep, or not an array.
std::vector<ServiceEntry> parseManifest(const std::string& text);

}  // namespace slipway
