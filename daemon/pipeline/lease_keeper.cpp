#include "daemon/pipeline/lease_keeper.h"

#include <Poco/Logger.h>

namespace slipway {

LeaseKeeper::LeaseKeeper(Store& store, int maxAttempts, std::function<std::vector<std::int64_t>()> running,
                         std::function<void(int)> requeued)
    : store_(store), maxAttempts_(maxAttempts), running_(std::move(running)), requeued_(std::move(requeued)) {}

LeaseKeeper::~LeaseKeeper() { stop(); }

void LeaseKeeper::start() { thread_ = std::thread([this] { run(); }); }

void LeaseKeeper::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::tick() {
    store_.renewLeases(running_());
    const int requeued = store_.requeueExpiredLeases(maxAttempts_);
    if (requeued > 0) {
        Poco::Logger::get("slipway.lease").warning(std::to_string(requeued) +
                                                   " jobs whose node stopped renewing its lease queued again");
        requeued_(requeued);
    }
    // Taken again on a connection opened anew since (the lock went with the old one).
    if (!store_.claimNodeName()) {
        Poco::Logger::get("slipway.lease").error("another slipwayd runs as node " + store_.node().name +
                                                 " on this database: give each node a [cluster] node of its own");
    }
}

void LeaseKeeper::run() {
    // A third of the lease: two renewals can fail (the database away for a
    // moment) before another node may take a job over.
    const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(store_.node().lease) / 3;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        try {
            tick();
        } catch (const std::exception& e) {
            Poco::Logger::get("slipway.lease").error(std::string("cannot renew this node's leases: ") + e.what());
        }
        lock.lock();
        wakeup_.wait_for(lock, interval, [this] { return stopping_; });
    }
}

}  // namespace slipway
