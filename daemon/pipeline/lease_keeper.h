#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/store.h"

namespace slipway {

// Keeps this node's claims of the jobs it runs alive, and takes back the
// jobs of nodes that stopped keeping theirs: every third of the lease, it
// renews the leases of the jobs `running` names and queues again (attempt
// raised, as a restart does) every running job whose lease ran out. A job
// this node claimed but no longer runs (its end could not be recorded) is
// left to lapse, and so comes back too. It also takes this node's name
// again after a connection to PostgreSQL was opened anew.
class LeaseKeeper {
public:
    // `running` gives the ids of the jobs this node runs now; `requeued` is
    // told when jobs were queued again (to wake the scheduler).
    LeaseKeeper(Store& store, int maxAttempts, std::function<std::vector<std::int64_t>()> running,
                std::function<void(int)> requeued);
    ~LeaseKeeper();
    LeaseKeeper(const LeaseKeeper&) = delete;
    LeaseKeeper& operator=(const LeaseKeeper&) = delete;

    void start();
    // Renews nothing more: this node's running jobs then stay theirs only
    // for what is left of their leases. Joins the thread.
    void stop();

    // One round: renews, then requeues what expired. Throws what the store throws.
    void tick();

private:
    void run();

    Store& store_;
    const int maxAttempts_;
    const std::function<std::vector<std::int64_t>()> running_;
    const std::function<void(int)> requeued_;
    std::mutex mutex_;
    std::condition_variable wakeup_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace slipway
