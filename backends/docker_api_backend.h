#pragma once

#include <chrono>
#include <string>

#include "backends/backend.h"
#include "backends/docker_output.h"
#include "backends/engine_client.h"
#include "backends/registry_credentials.h"

namespace slipway {

// Settings of the Docker Engine API backend.
struct DockerApiSettings {
    std::string dockerHost = "unix:///var/run/docker.sock";  // or tcp://host:port
    std::chrono::seconds buildTimeout{3600};
    std::chrono::seconds pushTimeout{1800};
    std::chrono::seconds connectTimeout{10};
    std::chrono::seconds removeTimeout{60};
    RegistryCredentials registry;  // sent as X-Registry-Auth with each push
};

// Builds, pushes and removes images through the Docker Engine API (v1.41):
// POST /build with the context as a tar made here (.dockerignore honoured,
// symbolic links never followed), POST /images/{name}/push, DELETE
// /images/{name}. The engine's progress goes to the log as it comes. A failed
// build removes the intermediate images it made, as the CLI backend does.
class DockerApiBackend final : public Backend {
public:
    explicit DockerApiBackend(DockerApiSettings settings);

    void build(const BuildRequest& request, std::ostream& log) override;
    std::string push(const std::string& image, std::ostream& log) override;
    void remove(const std::string& image, std::ostream& log) override;
    Platform imagePlatform(const std::string& image) override;
    std::vector<LocalImage> taggedImages(const std::string& label, const std::string& value) override;
    Platform ping() override;
    // Shuts down every engine call of this backend in progress.
    void abort() override;

private:
    // DELETE /images/{reference}; writes what the engine untagged and deleted to the log.
    void deleteImage(const std::string& reference, std::ostream& log);
    // What the engine records of image `id` (see imagesBuildMade).
    ImageOrigin originOf(const std::string& id);

    DockerApiSettings settings_;
    EngineClient engine_;
};

}  // namespace slipway
