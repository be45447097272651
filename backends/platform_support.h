#pragma once

#include <string>
#include <vector>

#include "backends/platform.h"

namespace slipway {

// Which platforms the build engine can build for: its own, and each one whose
// binaries the kernel hands to an emulator. Debian's qemu-user-static registers
// one per architecture in binfmt_misc with the F flag (the interpreter is
// opened once, at registration), which is what lets a RUN step inside a
// container of another architecture start at all. Read from the host slipwayd
// runs on, so known only for an engine on the same host (a unix socket); for
// one elsewhere, only its own platform is known and any other is tried.
class PlatformSupport {
public:
    // `binfmtDir`: where binfmt_misc is mounted (/proc/sys/fs/binfmt_misc).
    explicit PlatformSupport(std::string binfmtDir = "/proc/sys/fs/binfmt_misc", bool engineIsLocal = true);

    // Empty when an engine running on `native` can build `platform`;
    // otherwise why not, and how to make it able to.
    std::string problem(const Platform& platform, const Platform& native) const;

    // What /readyz reports: every platform slipway knows that an engine on
    // `native` can build, its own first; only its own when the engine is elsewhere.
    std::vector<std::string> buildable(const Platform& native) const;

private:
    std::string binfmtDir_;
    bool engineIsLocal_;
};

}  // namespace slipway
