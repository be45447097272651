#pragma once

#include <cstdint>
#include <ctime>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "storage/clock.h"
#include "storage/records.h"
#include "storage/store.h"
#include "tests/support/awaited.h"

namespace slipway::testing {

// Time stands still unless a test moves it.
class TestClock : public Clock {
public:
    Poco::Timestamp now() const override { return Poco::Timestamp::fromEpochTime(epoch); }
    std::time_t epoch = 1795000000;
};

inline const std::string kTestSha = "0123456789abcdef0123456789abcdef01234567";

// A build of `service` at version 1 of job `jobId` of repository "exam", at `sha`.
inline Build testBuild(std::int64_t jobId, const std::string& service, const std::string& sha = kTestSha) {
    Build b;
    b.jobId = jobId;
    b.repo = "exam";
    b.sha = sha;
    b.service = service;
    b.version = "1";
    b.image = "localhost:5443/" + service + ":1";
    return b;
}

// Store::recordDelivery, waiting for its commit: what it recorded, or what
// it threw; throws too when the store says nothing within 30 s.
inline RecordedDelivery recordDelivery(Store& store, Delivery delivery, std::vector<JobRequest> jobs) {
    const std::string what = "the commit of delivery " + delivery.id;
    Awaited<std::pair<RecordedDelivery, std::exception_ptr>> settled;
    store.recordDelivery(std::move(delivery), std::move(jobs),
                         [set = settled.setter()](RecordedDelivery recorded, std::exception_ptr failure) {
                             set({std::move(recorded), failure});
                         });
    auto outcome = settled.take(what);
    if (outcome.second) std::rethrow_exception(outcome.second);
    return std::move(outcome.first);
}

// Records merged-PR delivery `delivery` of repository "exam" at `sha` and
// claims its job (now running); returns the job's id.
inline std::int64_t runningTestJob(Store& store, const std::string& delivery, const std::string& sha = kTestSha) {
    const std::int64_t job =
        recordDelivery(store, {delivery, "pull_request", "closed", "exam", DeliveryOutcome::Queued, "", "", {}, {}},
                             {{"exam", sha, "", 1}})
            .queued.at(0);
    store.claimJob();
    return job;
}

}  // namespace slipway::testing
