#pragma once

#include <chrono>
#include <thread>

namespace slipway::testing {

// Waits (up to 10 s) until `done` holds, for what another thread does in its
// own time; says whether it does.
template <typename Predicate>
bool eventually(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done();
}

}  // namespace slipway::testing
