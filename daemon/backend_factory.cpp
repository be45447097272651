#include "daemon/backend_factory.h"

#include "backends/docker_cli_backend.h"

namespace slipway {

std::unique_ptr<Backend> makeBackend(const Settings& settings) {
    DockerCliSettings cli;
    cli.dockerCommand = settings.dockerCommand;
    cli.dockerHost = settings.dockerHost;
    cli.buildTimeout = settings.buildTimeout;
    cli.pushTimeout = settings.pushTimeout;
    return std::make_unique<DockerCliBackend>(cli);
}

}  // namespace slipway
