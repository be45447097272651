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

}  // namespace slipway
