#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/docker_output.h"
#include "backends/process_runner.h"
#include "backends/registry_credentials.h"

namespace slipway {

// Settings of the docker CLI backend.
struct DockerCliSettings {
    std::string dockerCommand = "docker";  // found on PATH unless absolute
    std::string dockerHost;                // DOCKER_HOST for the CLI; empty keeps its default
    // DOCKER_CONFIG for every docker command: slipwayd's own folder, so that its
    // registry login never reads or writes the user's ~/.docker. Empty keeps the default.
    std::string configDir;
    RegistryCredentials registry;  // logged in to before each push when it has a username
    std::chrono::seconds buildTimeout{3600};
    std::chrono::seconds pushTimeout{1800};
};

// Builds, pushes and removes images by launching the docker CLI with an argv
// vector. Every name it passes has been validated, and `--` ends the options.
// A failed build removes the intermediate images it made, so failures leave no
// dangling images behind. With registry credentials, each push is preceded by
// `docker login --password-stdin`: the password travels on stdin only.
class DockerCliBackend final : public Backend {
public:
    explicit DockerCliBackend(DockerCliSettings settings);

    void build(const BuildRequest& request, std::ostream& log) override;
    std::string push(const std::string& image, std::ostream& log) override;
    void remove(const std::string& image, std::ostream& log) override;
    Platform imagePlatform(const std::string& image) override;
    std::vector<LocalImage> taggedImages(const std::string& label, const std::string& value) override;
    Platform ping() override;
    // Kills every docker command this backend is waiting for.
    void abort() override;

private:
    // Runs docker with `args` (and `input` on its stdin), its output going to
    // `log` and read on the way; throws BackendError naming `step` unless it exits 0.
    DockerOutputScanner run(const std::string& step, const std::vector<std::string>& args,
                            std::chrono::seconds timeout, std::ostream& log,
                            const std::optional<std::string>& input = std::nullopt);

    // What the engine records of image `id` (see imagesBuildMade).
    ImageOrigin originOf(const std::string& id);

    // Stores the registry credentials in configDir through `docker login`.
    void login(std::ostream& log);

    DockerCliSettings settings_;
    ProcessGroup children_;  // the docker commands running now, for abort()
};

}  // namespace slipway
