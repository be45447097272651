#pragma once

#include <string>

namespace slipway {

// Who pushes to the registry. An empty username pushes anonymously. The
// password is a secret: nothing may put it in an error, a log or an argv.
struct RegistryCredentials {
    std::string serverAddress;  // host[:port], as images name the registry
    std::string username;
    std::string password;
};

// The X-Registry-Auth header the Engine API wants for a push: the JSON object
// {"username", "password", "serveraddress"} in padded base64url, or "{}" so
// encoded when anonymous. It holds the password: it goes nowhere but the header.
std::string registryAuthHeader(const RegistryCredentials& credentials);

}  // namespace slipway
