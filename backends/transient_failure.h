#pragma once

#include <string>

#include "backends/backend.h"

namespace slipway {

// What the backends' messages say, read inside the backends only: each sets
// the FailureKind of the BackendError it throws from the docker CLI's or the
// engine's own error text, and nothing past the Backend interface reads text.

// The kind of failure `message` (the docker CLI's last line, or the engine's
// error with its status) reports: EngineUnreachable, RegistryUnavailable or
// ImageVanished when the predicate below of that name holds (in that order),
// else CredentialsRefused for a refusal of the registry's, else Other.
FailureKind failureKindOf(const std::string& message);

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
