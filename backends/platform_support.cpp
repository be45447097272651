#include "backends/platform_support.h"

#include <fstream>
#include <sstream>

namespace slipway {
namespace {

// Whether the kernel runs `platform`'s binaries on `native` without an
// emulator: a 64-bit x86 kernel runs 32-bit x86 ones.
bool runsNatively(const Platform& platform, const Platform& native) {
    if (platform == native) return true;
    return native.os == "linux" && native.architecture == "amd64" && platform.os == "linux" &&
           platform.architecture == "386";
}

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

PlatformSupport::PlatformSupport(std::string binfmtDir, bool engineIsLocal)
    : binfmtDir_(std::move(binfmtDir)), engineIsLocal_(engineIsLocal) {}

std::string PlatformSupport::problem(const Platform& platform, const Platform& native) const {
    if (runsNatively(platform, native) || !engineIsLocal_) return {};
    const std::string cannot = platform.text() + " cannot be built on this host (the engine runs " + native.text() +
                               "): ";
    const std::string install =
        "install Debian's qemu-user-static, which registers an emulator for each architecture "
        "(apt-get install qemu-user-static)";
    const std::string status = readFile(binfmtDir_ + "/status");
    if (status.empty()) {
        return cannot + "binfmt_misc is not mounted at " + binfmtDir_ + "; mount it (mount -t binfmt_misc "
               "binfmt_misc " + binfmtDir_ + ", or start systemd's proc-sys-fs-binfmt_misc.mount), then " +
               install + " or run update-binfmts --enable";
    }
    if (status.rfind("enabled", 0) != 0) {
        return cannot + "binfmt_misc is disabled (" + binfmtDir_ + "/status); enable it: echo 1 > " + binfmtDir_ +
               "/status";
    }
    const std::string entry = binfmtDir_ + "/" + platform.emulatorName();
    const std::string registration = readFile(entry);
    if (registration.empty()) {
        return cannot + "no emulator for " + platform.architecture + " is registered (" + entry + " is missing); " +
               install + ", or run update-binfmts --enable " + platform.emulatorName();
    }
    if (registration.rfind("enabled", 0) != 0) {
        return cannot + "its emulator is registered but disabled (" + entry + "); run update-binfmts --enable " +
               platform.emulatorName();
    }
    std::istringstream lines(registration);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("flags:", 0) == 0) {
            if (line.find('F') != std::string::npos) return {};
            return cannot + "its emulator is registered without the F flag (" + entry + "), so a container cannot "
                   "start it; Debian's qemu-user-static registers it with F: reinstall it, or register it again "
                   "with F";
        }
    }
    return cannot + "cannot read the flags of its emulator's registration (" + entry + ")";
}

std::vector<std::string> PlatformSupport::buildable(const Platform& native) const {
    std::vector<std::string> platforms = {native.text()};
    if (!engineIsLocal_) return platforms;
    for (const Platform& platform : knownPlatforms()) {
        if (platform != native && problem(platform, native).empty()) platforms.push_back(platform.text());
    }
    return platforms;
}

}  // namespace slipway
