#include "daemon/reporters/log_reporter.h"

#include <Poco/Logger.h>

namespace slipway {
namespace {

std::string jobTag(const Job& job) {
    return "job " + std::to_string(job.id) + " (delivery " + job.deliveryId + ", " + job.repo + "@" +
           job.sha.substr(0, 12) + ")";
}

std::string buildTag(const Build& build) {
    return "build " + std::to_string(build.id) + " (delivery " + build.deliveryId + ", " + build.image + ")";
}

}  // namespace

LogReporter::LogReporter() : logger_(Poco::Logger::get("slipway.job")) {}

void LogReporter::jobStarted(const Job& job) {
    logger_.information(jobTag(job) + ": started, attempt " + std::to_string(job.attempt));
}

void LogReporter::jobFinished(const Job& job) {
    switch (job.state) {
        case RunState::Succeeded:
            logger_.information(jobTag(job) + ": succeeded");
            return;
        case RunState::Failed:
            logger_.error(jobTag(job) + ": " + job.error);
            return;
        case RunState::Queued:
        case RunState::Running:
            // Left running in the store: the next start queues it again.
            logger_.warning(jobTag(job) + ": interrupted by the stop; it runs again at the next start");
            return;
    }
}

void LogReporter::buildStarted(const Build& build) { logger_.information(buildTag(build) + ": started"); }

void LogReporter::buildRetrying(const Build& build, const std::string& why, std::chrono::milliseconds wait, int retry,
                                int of) {
    logger_.warning(buildTag(build) + ": " + why + "; retry " + std::to_string(retry) + " of " + std::to_string(of) +
                    " in " + std::to_string(wait.count()) + " ms");
}

void LogReporter::buildFinished(const Build& build) {
    if (build.state == RunState::Succeeded) {
        logger_.information(buildTag(build) + ": pushed " + build.digest);
    } else {
        logger_.error(buildTag(build) + ": " + build.error);
    }
}

}  // namespace slipway
