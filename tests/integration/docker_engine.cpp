#include "tests/integration/docker_engine.h"

#include <sstream>

#include <Poco/File.h>
#include <Poco/String.h>

#include "tests/integration/command.h"

namespace slipway::testing {

std::string DockerEngine::problem() {
    std::string output;
    if (tryRun("docker", {"version", "--format", "{{.Server.Version}}"}, output)) return {};
    return "the Docker engine does not answer (`docker version` said: " + output +
           "); run the suite through scripts/test.sh, which starts dockerd";
}

void DockerEngine::importBaseImage(const std::string& tag, const std::string& scratchDir) {
    const std::string root = scratchDir + "/rootfs";
    Poco::File(root + "/bin").createDirectories();
    Poco::File("/bin/busybox").copyTo(root + "/bin/busybox");
    for (const char* applet : {"sh", "cat", "ls", "echo", "true", "false", "test", "sleep"}) {
        mustRun("ln", {"-sf", "busybox", root + "/bin/" + applet});
    }
    const std::string tarball = scratchDir + "/rootfs.tar";
    mustRun("tar", {"-C", root, "-cf", tarball, "."});
    mustRun("docker", {"import", tarball, tag});
}

std::set<std::string> DockerEngine::danglingImages() {
    std::istringstream ids(mustRun("docker", {"images", "--filter", "dangling=true", "--quiet", "--no-trunc"}));
    std::set<std::string> result;
    for (std::string id; std::getline(ids, id);) result.insert(id);
    return result;
}

void DockerEngine::removeContainersFrom(const std::string& image) {
    std::istringstream ids(mustRun("docker", {"ps", "--all", "--quiet", "--filter", "ancestor=" + image}));
    for (std::string id; ids >> id;) mustRun("docker", {"rm", "--force", id});
}

void DockerEngine::removeImagesOf(const std::string& prefix) {
    std::istringstream lines(mustRun("docker", {"images", "--format", "{{.Repository}} {{.ID}}"}));
    std::set<std::string> ids;
    for (std::string repository, id; lines >> repository >> id;) {
        if (repository.rfind(prefix, 0) == 0) ids.insert(id);
    }
    for (const std::string& id : ids) removeImage(id);
}

bool DockerEngine::imageExists(const std::string& reference) {
    std::string output;
    return tryRun("docker", {"image", "inspect", "--format", "{{.Id}}", reference}, output);
}

void DockerEngine::removeImage(const std::string& reference) {
    std::string output;
    tryRun("docker", {"rmi", "--force", reference}, output);
}

InspectionContainer::InspectionContainer(const std::string& image)
    // The command is never run; docker create wants one for an image that has none.
    : id_(Poco::trim(mustRun("docker", {"create", "--", image, "/bin/true"}))) {}

InspectionContainer::~InspectionContainer() {
    std::string output;
    if (!id_.empty()) tryRun("docker", {"rm", "--force", id_}, output);
}

void InspectionContainer::copyOut(const std::string& path, const std::string& destination) const {
    mustRun("docker", {"cp", id_ + ":" + path, destination});
}

}  // namespace slipway::testing
