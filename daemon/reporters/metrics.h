#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace slipway {

// The counters and histograms slipwayd keeps in memory since it started, and
// their rendering in the Prometheus text exposition format (version 0.0.4).
// Thread-safe.
class Metrics {
public:
    // A webhook that passed the signature check. Events other than the ones
    // slipway knows are counted as "other", so a sender cannot grow the label set.
    void webhookReceived(const std::string& event, const std::string& outcome);

    // A build that ended, with how long its docker build and its push took.
    void buildFinished(const std::string& state);
    void buildDuration(double seconds);
    void pushDuration(double seconds);

    // The text for GET /metrics; `queuedJobs` and `runningBuilds` are read from
    // the store by the caller at scrape time.
    std::string render(std::int64_t queuedJobs, std::int64_t runningBuilds) const;

private:
    struct Histogram {
        static constexpr std::array<double, 10> kBounds = {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
        std::array<std::uint64_t, kBounds.size()> buckets{};
        std::uint64_t count = 0;
        double sum = 0;
        void observe(double value);
        void render(std::string& out, const std::string& name, const std::string& help) const;
    };

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> webhooks_;
    std::map<std::string, std::uint64_t> builds_;
    Histogram buildSeconds_;
    Histogram pushSeconds_;
};

}  // namespace slipway
