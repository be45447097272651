#include "backends/platform.h"

#include <algorithm>
#include <map>

namespace slipway {
namespace {

struct Architecture {
    const char* name;      // Docker's (GOARCH)
    const char* emulator;  // qemu-user-static's binfmt_misc entry
};

const Architecture kArchitectures[] = {
    {"amd64", "qemu-x86_64"},     {"arm64", "qemu-aarch64"}, {"arm", "qemu-arm"},
    {"386", "qemu-i386"},         {"ppc64le", "qemu-ppc64le"}, {"s390x", "qemu-s390x"},
    {"riscv64", "qemu-riscv64"},  {"mips64le", "qemu-mips64el"}, {"loong64", "qemu-loongarch64"},
};

// What `uname -m` and other tools call an architecture Docker names otherwise.
const std::map<std::string, std::string> kOtherSpellings = {
    {"x86_64", "amd64"}, {"x86-64", "amd64"}, {"aarch64", "arm64"}, {"armhf", "arm/v7"}, {"armel", "arm/v6"},
    {"i386", "386"},     {"i686", "386"},     {"ppc64el", "ppc64le"}, {"riscv", "riscv64"},
};

const Architecture* findArchitecture(const std::string& name) {
    for (const Architecture& architecture : kArchitectures) {
        if (name == architecture.name) return &architecture;
    }
    return nullptr;
}

std::string knownArchitectures() {
    std::string list;
    for (const Architecture& architecture : kArchitectures) {
        list += (list.empty() ? "" : ", ") + std::string(architecture.name);
    }
    return list;
}

}  // namespace

std::string Platform::text() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }

std::string Platform::tagSuffix() const {
    return os + "-" + architecture + (variant.empty() ? "" : "-" + variant);
}

std::string Platform::emulatorName() const {
    const Architecture* known = findArchitecture(architecture);
    return known ? known->emulator : std::string();
}

Platform parsePlatform(const std::string& text) {
    std::vector<std::string> parts;
    std::string::size_type start = 0;
    for (;;) {
        const std::string::size_type slash = text.find('/', start);
        parts.push_back(text.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    const std::string form = " (write os/architecture, such as linux/arm64, or linux/arm/v7)";
    if (parts.size() < 2 || parts.size() > 3) throw PlatformError("\"" + text + "\" is not a platform" + form);
    Platform platform{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
    if (platform.os != "linux") {
        throw PlatformError("\"" + text + "\": slipway builds linux images only, not \"" + platform.os + "\"" + form);
    }
    if (!findArchitecture(platform.architecture)) {
        const auto other = kOtherSpellings.find(platform.architecture);
        throw PlatformError("\"" + text + "\": unknown architecture \"" + platform.architecture + "\"" +
                            (other == kOtherSpellings.end() ? std::string()
                                                            : " (Docker calls it " + other->second + ")") +
                            "; known: " + knownArchitectures());
    }
    if (platform.architecture == "arm") {
        if (platform.variant.empty()) platform.variant = "v7";  // as Docker reads a bare linux/arm
        if (platform.variant != "v5" && platform.variant != "v6" && platform.variant != "v7") {
            throw PlatformError("\"" + text + "\": linux/arm's variant is v5, v6 or v7, not \"" + platform.variant + "\"");
        }
    } else if (!platform.variant.empty()) {
        throw PlatformError("\"" + text + "\": only linux/arm takes a variant; write linux/" + platform.architecture);
    }
    return platform;
}

std::vector<Platform> parsePlatforms(const std::vector<std::string>& texts) {
    std::vector<Platform> platforms;
    for (const std::string& text : texts) {
        Platform platform = parsePlatform(text);
        if (std::find(platforms.begin(), platforms.end(), platform) != platforms.end()) {
            throw PlatformError("\"" + text + "\" is listed twice");
        }
        platforms.push_back(std::move(platform));
    }
    return platforms;
}

Platform platformNamed(const std::string& os, const std::string& architecture, const std::string& variant) {
    Platform platform{os, architecture, variant};
    if (architecture == "arm64" && variant == "v8") platform.variant.clear();
    if (architecture == "arm" && variant.empty()) platform.variant = "v7";
    return platform;
}

std::vector<Platform> knownPlatforms() {
    std::vector<Platform> platforms;
    for (const Architecture& architecture : kArchitectures) {
        if (std::string(architecture.name) == "arm") {
            for (const char* variant : {"v7", "v6", "v5"}) platforms.push_back({"linux", "arm", variant});
        } else {
            platforms.push_back({"linux", architecture.name, ""});
        }
    }
    return platforms;
}

}  // namespace slipway
