#include "daemon/reporters/log_shipper.h"

#include <fstream>

#include <Poco/Logger.h>

namespace slipway {
namespace {

// A chunk is at most this: a 10 MB log goes in forty rows, and one round
// never holds more than this of it in memory.
constexpr std::size_t kChunkBytes = 256 * 1024;

Poco::Logger& logger() { return Poco::Logger::get("slipway.logs"); }

}  // namespace

LogShipper::LogShipper(Store& store, std::function<std::string(std::int64_t)> logPath,
                       std::chrono::milliseconds interval)
    : store_(store), logPath_(std::move(logPath)), interval_(interval) {}

LogShipper::~LogShipper() { stop(); }

void LogShipper::start() {
    thread_ = std::thread([this] {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_) {
            wakeup_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
            woken_ = false;
            lock.unlock();
            shipOnce();
            lock.lock();
        }
    });
}

void LogShipper::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
        shipOnce();
    }
}

std::size_t LogShipper::tracked() {
    std::lock_guard<std::mutex> lock(mutex_);
    return builds_.size();
}

void LogShipper::buildStarted(const Build& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    builds_[build.id].jobId = build.jobId;
}

void LogShipper::buildFinished(const Build& build) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto found = builds_.find(build.id);
        if (found == builds_.end()) return;  // never started: it has no log
        found->second.ended = true;
        woken_ = true;
    }
    wakeup_.notify_all();
}

void LogShipper::jobFinished(const Job& job) {
    // Its builds write no more, however the job ended (a stop, a lost lease).
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [id, shipping] : builds_) {
            if (shipping.jobId == job.id) shipping.ended = true;
        }
        woken_ = true;
    }
    wakeup_.notify_all();
}

void LogShipper::shipOnce() {
    std::lock_guard<std::mutex> round(roundMutex_);
    std::map<std::int64_t, Shipping> now;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        now = builds_;
    }
    for (auto& [id, shipping] : now) {
        bool whole = false;
        try {
            whole = ship(id, shipping);
        } catch (const std::exception& e) {
            // The database is away: the bytes wait in the file for the next round.
            logger().warning("build " + std::to_string(id) + ": cannot ship its log: " + e.what());
        }
        std::lock_guard<std::mutex> lock(mutex_);
        const auto found = builds_.find(id);
        if (found == builds_.end()) continue;
        if (whole) {
            builds_.erase(found);
        } else {
            found->second.offset = shipping.offset;
            found->second.seq = shipping.seq;
            found->second.unsent = shipping.unsent;
        }
    }
}

bool LogShipper::ship(std::int64_t id, Shipping& shipping) {
    // Throws (the store failed) with the chunk kept in `shipping.unsent`.
    auto send = [&](LogChunk chunk) {
        shipping.unsent = chunk;
        store_.appendLog(id, chunk);
        shipping.unsent.reset();
        ++shipping.seq;
        shipping.offset += chunk.data.size();
        return chunk.last;
    };
    if (shipping.unsent && send(*shipping.unsent)) return true;
    std::ifstream file(logPath_(id), std::ios::binary);
    if (file) file.seekg(static_cast<std::streamoff>(shipping.offset));
    std::string data(kChunkBytes, '\0');
    for (;;) {
        std::size_t got = 0;
        if (file) {
            file.read(&data[0], static_cast<std::streamsize>(kChunkBytes));
            got = static_cast<std::size_t>(file.gcount());
        }
        // Ended means every byte is in the file (the runner flushes it
        // before it ends the build): a short read is the end of the log.
        const bool last = shipping.ended && got < kChunkBytes;
        if (got == 0 && !last) return false;
        if (send({shipping.seq + 1, data.substr(0, got), last})) return true;
        if (got < kChunkBytes) return false;
    }
}

}  // namespace slipway
