#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include "storage/clock.h"
#include "storage/records.h"
#include "storage/store.h"

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

// Records merged-PR delivery `delivery` of repository "exam" at `sha` and
// claims its job (now running); returns the job's id.
inline std::int64_t runningTestJob(Store& store, const std::string& delivery, const std::string& sha = kTestSha) {
    const std::int64_t job =
        store.recordDelivery({delivery, "pull_request", "closed", "exam", DeliveryOutcome::Queued, "", "", {}, {}},
                             {{"exam", sha, "", 1}})
            .queued.at(0);
    store.claimJob();
    return job;
}

}  // namespace slipway::testing
