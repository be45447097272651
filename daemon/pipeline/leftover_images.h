#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "storage/store.h"

namespace slipway {

// Removes the local tags this slipwayd's builds left on the engine: images
// labelled with its `instance` (kLabelInstance) whose build is not queued or
// running. A build always removes its tag as it ends, but one a stop or
// crash cut short leaves it, and a job that then fails after its last allowed
// attempt (builder.max_attempts) never runs again to remove it. With
// `keepImages`, a succeeded build's tag stays, as it was kept on purpose, and
// so does one whose build retention has removed from the store.
// Another slipwayd's images (another instance) are never touched. Call at
// start, before any job runs. Returns the references removed; throws
// BackendError when the engine cannot list them.
std::vector<std::string> removeLeftoverTags(Backend& backend, Store& store, const std::string& instance,
                                            bool keepImages, std::ostream& log);

}  // namespace slipway
