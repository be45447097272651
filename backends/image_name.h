#pragma once

#include <string>

namespace slipway {

// Docker's repository-name grammar, as images.json's service_name must follow
// it: lowercase components of [a-z0-9] joined by '.', '_', '__' or '-',
// separated by '/'. Rules out absolute paths, '..', and a leading '-'.
bool isValidRepositoryName(const std::string& name);

// A Docker tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool isValidTag(const std::string& tag);

// host[:port] as a registry address: a DNS name or IPv4 address, optional port 1 to 65535.
bool isValidRegistryHost(const std::string& host);

// Whether Docker reads `host` as a registry at the start of an image name,
// as it does only for a name with a '.' or a ':', or "localhost". Any other
// first component ("registry/api:1") is a Docker Hub namespace: the image
// would be pushed to Docker Hub.
bool dockerReadsAsRegistry(const std::string& host);

// <registry>/<service>:<version>.
std::string imageReference(const std::string& registry, const std::string& service,
                           const std::string& version);

}  // namespace slipway
