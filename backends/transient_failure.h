#pragma once

#include <string>

namespace slipway {

// Whether a backend failure says the engine could not be reached (down,
// restarting, socket gone): worth trying again, unlike a Dockerfile that fails.
bool engineUnreachable(const std::string& message);

// Whether a push failure says the registry was unavailable (connection refused
// or reset, a 5xx, a timeout), as opposed to refusing the push (401, 403, 404).
bool registryUnavailable(const std::string& message);

// Whether a build or a push failed because an image it needs is gone: the
// one to push, or a cached layer to build on, removed meanwhile, as by a
// removal of the same tag that a killed slipwayd had already sent to the
// engine before the job ran again.
bool imageVanished(const std::string& message);

}  // namespace slipway
