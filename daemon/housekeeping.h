#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/settings.h"
#include "daemon/source/checkout.h"
#include "storage/clock.h"
#include "storage/store.h"

namespace slipway {

// The state folder's size by part, in bytes: "database" (slipway.db and its
// write-ahead log), "logs", "repos" (the mirrors), "work" (the work trees).
using DiskUsage = std::map<std::string, std::uint64_t>;

struct HousekeepingSettings {
    std::string stateDir;
    std::string logDir;
    int keepDays = 90;           // 0: no age limit
    std::int64_t keepBuilds = 0;  // 0: no count limit
    std::vector<RepoSettings> repos;
    // A mirror is packed past this many loose objects (git gc's own default).
    std::size_t maxLooseObjects = 6700;
    std::chrono::hours every{24};
};

// What one housekeeping pass did.
struct HousekeepingPass {
    Store::Pruned pruned;
    std::size_t orphanLogs = 0;  // log files removed whose build the store no longer has
    std::vector<std::pair<std::string, std::size_t>> packed;  // mirror alias, objects packed
    DiskUsage usage;
};

// Keeps a daemon that runs for months from filling its disk: at start and
// then daily, removes the history retention lets go (storage.keep_days,
// storage.keep_builds: the rows in one transaction, then the builds' logs),
// packs the loose objects of mirrors that gathered too many, and measures the
// state folder for /metrics. Runs on a thread of its own; a pass that fails is
// logged and tried again at the next.
class Housekeeping {
public:
    // `measured` is told what each pass measured (the metrics show it).
    Housekeeping(HousekeepingSettings settings, Store& store, Checkout& checkout, const Clock& clock,
                 std::function<void(const DiskUsage&)> measured);
    ~Housekeeping();
    Housekeeping(const Housekeeping&) = delete;
    Housekeeping& operator=(const Housekeeping&) = delete;

    // One pass, now, on the calling thread.
    HousekeepingPass runOnce();

    // A pass now, then one every `every`, until stop().
    void start();
    void stop();

private:
    HousekeepingSettings settings_;
    Store& store_;
    Checkout& checkout_;
    const Clock& clock_;
    std::function<void(const DiskUsage&)> measured_;

    std::mutex mutex_;
    std::condition_variable wakeup_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace slipway
