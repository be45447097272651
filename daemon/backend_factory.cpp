#include "daemon/backend_factory.h"

#include "backends/docker_api_backend.h"
#include "backends/docker_cli_backend.h"

namespace slipway {

std::unique_ptr<Backend> makeBackend(const Settings& settings) {
    const RegistryCredentials registry{settings.registryHost, settings.registryUser, settings.registryPassword};
    if (settings.backend == "api") {
        DockerApiSettings api;
        api.dockerHost = settings.dockerHost;
        api.buildTimeout = settings.buildTimeout;
        api.pushTimeout = settings.pushTimeout;
        api.registry = registry;
        return std::make_unique<DockerApiBackend>(api);
    }
    DockerCliSettings cli;
    cli.dockerCommand = settings.dockerCommand;
    cli.dockerHost = settings.dockerHost;
    cli.configDir = settings.stateDir + "/docker";
    cli.registry = registry;
    cli.buildTimeout = settings.buildTimeout;
    cli.pushTimeout = settings.pushTimeout;
    return std::make_unique<DockerCliBackend>(cli);
}

}  // namespace slipway
