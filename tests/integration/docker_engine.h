#pragma once

#include <set>
#include <string>

namespace slipway::testing {

// The Docker engine the integration tests build with: the one the docker CLI
// reaches (scripts/test.sh starts dockerd when none answers).
class DockerEngine {
public:
    // Empty when the engine answers; otherwise why it does not.
    static std::string problem();

    // Imports a base image under `tag` from busybox-static, offline: nothing is pulled.
    static void importBaseImage(const std::string& tag, const std::string& scratchDir);

    // Ids of the images that have no tag and no child: what a failed build would leave behind.
    static std::set<std::string> danglingImages();

    static bool imageExists(const std::string& reference);
    static void removeImage(const std::string& reference);
};

}  // namespace slipway::testing
