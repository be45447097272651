#pragma once

#include <string>

namespace slipway {

// An exclusive lock on state_dir/slipway.lock for as long as it lives, so that
// a second slipwayd on the same state folder (a debug run, a unit started
// twice) refuses to start instead of wiping the first one's checkouts and
// queueing its running jobs again.
class StateLock {
public:
    // Throws std::runtime_error naming the folder when another process holds it.
    explicit StateLock(const std::string& stateDir);
    ~StateLock();
    StateLock(const StateLock&) = delete;
    StateLock& operator=(const StateLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace slipway
