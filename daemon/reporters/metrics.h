#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "daemon/pipeline/build_events.h"
#include "daemon/reporters/status_attempts.h"
#include "storage/records.h"

namespace slipway {

// The counters and histograms slipwayd keeps in memory since it started, and
// their rendering in the Prometheus text exposition format (version 0.0.4).
// Builds are counted as a listener of build events, commit status requests as
// the sender reports them. Thread-safe.
class Metrics final : public BuildEvents, public StatusAttempts {
public:
    // A webhook that passed the signature check. Events other than the ones
    // slipway knows are counted as "other", so a sender cannot grow the label set.
    void webhookReceived(const std::string& event, DeliveryOutcome outcome);

    // A build that ended, by its state; how long its docker build and its push took.
    void buildFinished(const Build& build) override;
    void stepTimed(const Build& build, BuildStep step, double seconds) override;
    // Not counted: the gauges are read from the store at scrape time.
    void jobStarted(const Job&) override {}
    void jobFinished(const Job&) override {}
    void buildQueued(const Build&) override {}
    void buildStarted(const Build&) override {}
    void buildRetrying(const Build&, const std::string&, std::chrono::milliseconds, int, int) override {}

    void statusAttempted(StatusAttempt attempt) override;

    // The state folder's size by part, in bytes, as the last housekeeping
    // pass measured it (daemon/housekeeping.h).
    void setDiskUsage(const std::map<std::string, std::uint64_t>& bytes);

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
    std::map<std::pair<std::string, std::string>, std::uint64_t> webhooks_;  // (event, outcome): rendered in this order
    std::map<RunState, std::uint64_t> builds_;
    std::map<StatusAttempt, std::uint64_t> statuses_;
    std::map<std::string, std::uint64_t> disk_;
    Histogram buildSeconds_;
    Histogram pushSeconds_;
};

}  // namespace slipway
