#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/records.h"

namespace slipway {

// Which builds GET /api/builds asks for. Every field is optional (empty or 0);
// values are validated by the caller and always bound, never spliced into SQL.
struct BuildQuery {
    std::string repo;
    std::string service;
    std::string node;
    std::optional<RunState> state;
    std::string shaPrefix;  // lowercase hex, 1 to 40 characters
    std::string since;      // RFC 3339 UTC as Store writes it; queued at or after
    std::string until;      // queued before
    std::int64_t before = 0;  // keyset cursor: only ids below this
    int limit = 50;
};

}  // namespace slipway
