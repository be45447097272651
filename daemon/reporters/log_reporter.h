#pragma once

#include "daemon/pipeline/build_events.h"

namespace Poco {
class Logger;
}

namespace slipway {

// Writes each job and build transition as one line of the daemon's log
// (journald under systemd): starts, retries and ends, with the delivery and
// the image, so an operator can follow a merge without the API. Thread-safe.
class LogReporter final : public BuildEvents {
public:
    LogReporter();

    void jobStarted(const Job& job) override;
    void jobFinished(const Job& job) override;
    void buildQueued(const Build&) override {}
    void buildStarted(const Build& build) override;
    void buildRetrying(const Build& build, const std::string& why, std::chrono::milliseconds wait, int retry,
                       int of) override;
    void stepTimed(const Build&, BuildStep, double) override {}
    void buildFinished(const Build& build) override;

private:
    Poco::Logger& logger_;  // looked up once: Logger::get takes a lock
};

}  // namespace slipway
