#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/pipeline/build_events.h"
#include "storage/store.h"

namespace slipway {

// Ships the log file of each build this node runs into the store, where
// every node sharing the database reads it (and follows it live): new bytes
// every `interval`, off the build's thread, and the rest once the build (or
// its job) has ended, in a chunk marked last. A store that fails keeps the
// bytes for the next round. Only with several nodes on PostgreSQL: one
// node serves its own files.
class LogShipper final : public BuildEvents {
public:
    LogShipper(Store& store, std::function<std::string(std::int64_t)> logPath, std::chrono::milliseconds interval);
    ~LogShipper() override;
    LogShipper(const LogShipper&) = delete;
    LogShipper& operator=(const LogShipper&) = delete;

    void start();
    // Ships what the files hold now (unmarked for builds still running) and stops.
    void stop();

    // One round: ships what every tracked log gained. Throws nothing.
    void shipOnce();

    // How many builds' logs are still being shipped.
    std::size_t tracked();

    void jobStarted(const Job&) override {}
    void jobFinished(const Job& job) override;
    void buildQueued(const Build&) override {}
    void buildStarted(const Build& build) override;
    void buildRetrying(const Build&, const std::string&, std::chrono::milliseconds, int, int) override {}
    void stepTimed(const Build&, BuildStep, double) override {}
    void buildFinished(const Build& build) override;

private:
    struct Shipping {
        std::int64_t jobId = 0;
        std::uint64_t offset = 0;  // of the file, shipped up to here
        int seq = 0;               // of the last chunk shipped
        bool ended = false;        // the build wrote its last byte
        // A chunk whose write failed, perhaps after the database committed
        // it: sent again as it was, so that the copy the store kept (a chunk
        // is written once) and what follows it agree.
        std::optional<LogChunk> unsent;
    };

    // Ships what build `id`'s file gained since `shipping`; returns whether
    // its log is shipped whole (ended, and the last chunk in the store).
    bool ship(std::int64_t id, Shipping& shipping);

    Store& store_;
    const std::function<std::string(std::int64_t)> logPath_;
    const std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable wakeup_;
    std::map<std::int64_t, Shipping> builds_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
    std::mutex roundMutex_;  // one round at a time: the thread's, or a test's
};

}  // namespace slipway
