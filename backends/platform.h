#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace slipway {

// A platform an image is built for, as Docker and the OCI image index name
// it: "linux/arm64", "linux/arm/v7". Only the names Docker itself uses are
// taken ("arm64", never "aarch64"), so that one platform has one spelling in
// images.json, in the content key and in the index.
struct Platform {
    std::string os;            // "linux": a Linux engine builds nothing else
    std::string architecture;  // GOARCH: amd64, arm64, arm, 386, ppc64le, s390x, riscv64, mips64le, loong64
    std::string variant;       // arm only: v5, v6 or v7; empty otherwise

    // "os/architecture[/variant]".
    std::string text() const;
    // "os-architecture[-variant]": the end of the tag each platform's image
    // is pushed under before the index names it.
    std::string tagSuffix() const;
    // The name binfmt_misc knows the emulator of this architecture by, as
    // qemu-user-static registers it ("qemu-aarch64").
    std::string emulatorName() const;

    bool operator==(const Platform& other) const {
        return os == other.os && architecture == other.architecture && variant == other.variant;
    }
    bool operator!=(const Platform& other) const { return !(*this == other); }
};

// `text` is not a platform slipway can build; what() says why and what it takes.
class PlatformError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// Parses "os/architecture[/variant]". Throws PlatformError naming what is wrong
// (an unknown architecture names the known ones, and Docker's name for a
// common other spelling: "aarch64" is "arm64").
Platform parsePlatform(const std::string& text);

// Parses a list (images.json's "platforms", builder.platforms): every entry a
// platform, none twice. Throws PlatformError naming the entry.
std::vector<Platform> parsePlatforms(const std::vector<std::string>& texts);

// The platform an image's configuration (or an engine) names, in the form
// parsePlatform gives: arm64's "v8" dropped and a bare "arm" read as arm/v7,
// as Docker matches them. Never throws: an architecture slipway does not know
// stays as it is, and simply equals no platform it builds.
Platform platformNamed(const std::string& os, const std::string& architecture, const std::string& variant);

// Every platform parsePlatform takes, one per architecture and arm variant.
std::vector<Platform> knownPlatforms();

}  // namespace slipway
