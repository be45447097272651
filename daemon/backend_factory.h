#pragma once

#include <memory>

#include "backends/backend.h"
#include "daemon/config/settings.h"

namespace slipway {

// The backend `settings.backend` names, configured from the typed settings.
std::unique_ptr<Backend> makeBackend(const Settings& settings);

}  // namespace slipway
