#pragma once

#include <string>

namespace slipway {

// Asks the registry's /v2/ endpoint over HTTPS whether it answers. Trusts the CA
// Docker trusts for it (/etc/docker/certs.d/<host>/ca.crt) when there is one,
// and the system's otherwise. Throws std::runtime_error saying why not.
void probeRegistry(const std::string& host);

}  // namespace slipway
