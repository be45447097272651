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

    // Removes every container made from `image` or an image built on it.
    static void removeContainersFrom(const std::string& image);

    // Removes every image whose repository starts with `prefix` (e.g. a test registry's host).
    static void removeImagesOf(const std::string& prefix);

    // Removes every image built on `image` (each layer of a build is an image
    // whose parent is the one before): what builds cut short leave, untagged.
    static void removeImagesBuiltOn(const std::string& image);

    static bool imageExists(const std::string& reference);
    static void removeImage(const std::string& reference);
};

// A container created (never started) from an image so that a test can look at
// the image's files; removed when destroyed.
class InspectionContainer {
public:
    explicit InspectionContainer(const std::string& image);
    ~InspectionContainer();
    InspectionContainer(const InspectionContainer&) = delete;
    InspectionContainer& operator=(const InspectionContainer&) = delete;

    // Copies `path` out of the container to `destination` as `docker cp` does:
    // a symbolic link stays a link.
    void copyOut(const std::string& path, const std::string& destination) const;

private:
    std::string id_;
};

}  // namespace slipway::testing
