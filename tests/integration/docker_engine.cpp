#include "tests/integration/docker_engine.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

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

void DockerEngine::removeImagesBuiltOn(const std::string& image) {
    std::string base;
    if (!tryRun("docker", {"image", "inspect", "--format", "{{.Id}}", image}, base)) return;
    base = Poco::trim(base);
    std::istringstream all(mustRun("docker", {"images", "--all", "--quiet", "--no-trunc"}));
    std::vector<std::string> args = {"image", "inspect", "--format", "{{.Id}} {{.Parent}}"};
    for (std::string id; all >> id;) args.push_back(id);
    if (args.size() == 4) return;
    std::string output;
    tryRun("docker", args, output);  // an image removed meanwhile fails only its own line
    std::map<std::string, std::string> parentOf;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string id;
        std::string parent;
        if (fields >> id) parentOf[id] = fields >> parent ? parent : "";
    }
    // How many images lie between `id` and the base, or -1 when it is not built on it.
    auto depthAboveBase = [&](std::string id) {
        for (int depth = 0; depth < 1000; ++depth) {
            const auto found = parentOf.find(id);
            if (found == parentOf.end() || found->second.empty()) return -1;
            if (found->second == base) return depth;
            id = found->second;
        }
        return -1;
    };
    // Deepest first, so that no image is removed while a child holds it.
    std::vector<std::pair<int, std::string>> built;
    for (const auto& entry : parentOf) {
        const int depth = depthAboveBase(entry.first);
        if (depth >= 0) built.emplace_back(depth, entry.first);
    }
    std::sort(built.rbegin(), built.rend());
    for (const auto& entry : built) removeImage(entry.second);
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
