#include "daemon/backend_factory.h"

#include "backends/docker_cli_backend.h"

namespace slipway {

std::unique_ptr<Backend> makeBackend(const Settings& settings) {
    DockerCliSettings cli;
    cli.dockerCommand = settings.dockerCommand;
    cli.dockerHost = settings.dockerHost;
    cli.configDir = settings.stateDir + "/docker";
    cli.registry = {settings.registryHost, settings.registryUser, settings.registryPassword};
    cli.buildTimeout = settings.buildTimeout;
    cli.pushTimeout = settings.pushTimeout;
    return std::make_unique<DockerCliBackend>(cli);
}

}  // namespace slipway
