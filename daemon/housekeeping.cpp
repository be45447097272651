#include "daemon/housekeeping.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <system_error>

#include <Poco/Logger.h>
#include <Poco/Timespan.h>

namespace slipway {
namespace {

Poco::Logger& logger() {
    static Poco::Logger& logger = Poco::Logger::get("slipway.housekeeping");
    return logger;
}

// The bytes of the regular files under `path` (or of `path` itself), never following a link.
std::uint64_t bytesUnder(const std::filesystem::path& path) {
    std::error_code error;
    const std::filesystem::file_status status = std::filesystem::symlink_status(path, error);
    if (error) return 0;
    if (std::filesystem::is_regular_file(status)) return std::filesystem::file_size(path, error);
    std::uint64_t total = 0;
    if (!std::filesystem::is_directory(status)) return 0;
    for (std::filesystem::recursive_directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
        std::error_code sizeError;
        if (it->is_regular_file(sizeError) && !it->is_symlink(sizeError)) {
            const std::uintmax_t size = it->file_size(sizeError);
            if (!sizeError) total += size;
        }
    }
    return total;
}

// The build ids of the log files in `logDir` (build-<id>.log).
std::vector<std::int64_t> loggedBuilds(const std::string& logDir) {
    std::vector<std::int64_t> ids;
    std::error_code error;
    for (std::filesystem::directory_iterator it(logDir, error), end; !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (name.rfind("build-", 0) != 0 || name.size() <= 10 || name.compare(name.size() - 4, 4, ".log") != 0) continue;
        const std::string digits = name.substr(6, name.size() - 10);
        if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) continue;
        ids.push_back(std::stoll(digits));
    }
    return ids;
}

}  // namespace

Housekeeping::Housekeeping(HousekeepingSettings settings, Store& store, Checkout& checkout, const Clock& clock,
                           std::function<void(const DiskUsage&)> measured)
    : settings_(std::move(settings)),
      store_(store),
      checkout_(checkout),
      clock_(clock),
      measured_(std::move(measured)) {}

Housekeeping::~Housekeeping() { stop(); }

HousekeepingPass Housekeeping::runOnce() {
    HousekeepingPass pass;
    std::optional<Poco::Timestamp> before;
    if (settings_.keepDays > 0) {
        before = clock_.now() - Poco::Timespan(settings_.keepDays, 0, 0, 0, 0);
    }
    // Several nodes share the history, and one prunes it.
    if ((before || settings_.keepBuilds > 0) && store_.holdsDuty("history")) {
        pass.pruned = store_.pruneHistory(before, settings_.keepBuilds);
        // After the rows: a log without its build is only space; a build
        // without its log would be a broken link in the API.
        for (const std::int64_t id : pass.pruned.builds) {
            std::error_code ignored;
            std::filesystem::remove(settings_.logDir + "/build-" + std::to_string(id) + ".log", ignored);
        }
    }
    // The log files of builds the store no longer has: pruned by another
    // node (which prunes for all of them), or a build removed while this
    // node was down. Every node keeps its own files. Only below the newest
    // build, which pruning always keeps: a node pointed at another (or a new,
    // empty) database keeps the files it cannot tell apart.
    const std::int64_t newest = store_.newestBuildId();
    std::vector<std::int64_t> logged = loggedBuilds(settings_.logDir);
    logged.erase(std::remove_if(logged.begin(), logged.end(), [newest](std::int64_t id) { return id >= newest; }),
                 logged.end());
    std::sort(logged.begin(), logged.end());
    std::vector<std::int64_t> kept = store_.existingBuilds(logged);
    std::sort(kept.begin(), kept.end());
    std::vector<std::int64_t> orphans;
    std::set_difference(logged.begin(), logged.end(), kept.begin(), kept.end(), std::back_inserter(orphans));
    for (const std::int64_t id : orphans) {
        std::error_code ignored;
        std::filesystem::remove(settings_.logDir + "/build-" + std::to_string(id) + ".log", ignored);
    }
    pass.orphanLogs = orphans.size();
    pass.packed = checkout_.packMirrors(settings_.repos, settings_.maxLooseObjects);
    const std::string db = settings_.stateDir + "/slipway.db";
    pass.usage = {{"database", bytesUnder(db) + bytesUnder(db + "-wal")},
                  {"logs", bytesUnder(settings_.logDir)},
                  {"repos", bytesUnder(settings_.stateDir + "/repos")},
                  {"work", bytesUnder(settings_.stateDir + "/work")}};
    measured_(pass.usage);
    return pass;
}

void Housekeeping::start() {
    thread_ = std::thread([this] {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            try {
                const HousekeepingPass pass = runOnce();
                if (!pass.pruned.builds.empty() || pass.pruned.jobs > 0 || pass.pruned.deliveries > 0) {
                    logger().information("removed " + std::to_string(pass.pruned.builds.size()) + " builds and their logs, " +
                                         std::to_string(pass.pruned.jobs) + " jobs and " +
                                         std::to_string(pass.pruned.deliveries) +
                                         " deliveries past storage.keep_days / storage.keep_builds");
                }
                if (pass.orphanLogs > 0) {
                    logger().information("removed " + std::to_string(pass.orphanLogs) +
                                         " log files of builds the store no longer has");
                }
                for (const auto& [alias, objects] : pass.packed) {
                    logger().information("packed " + std::to_string(objects) + " loose objects of the mirror of " + alias);
                }
            } catch (const std::exception& e) {
                logger().error(std::string("housekeeping failed; trying again at the next pass: ") + e.what());
            }
            lock.lock();
            wakeup_.wait_for(lock, settings_.every, [this] { return stopping_; });
        }
    });
}

void Housekeeping::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace slipway
