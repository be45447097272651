#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slipway {

// States shared by jobs and builds: queued -> running -> succeeded | failed.
inline constexpr const char* kQueued = "queued";
inline constexpr const char* kRunning = "running";
inline constexpr const char* kSucceeded = "succeeded";
inline constexpr const char* kFailed = "failed";

// One webhook delivery as GitHub sent it, and what slipway made of it.
struct Delivery {
    std::string id;          // X-GitHub-Delivery
    std::string event;       // X-GitHub-Event
    std::string action;      // payload "action", empty when the event has none
    std::string repo;        // configured alias, empty when none matched
    std::string outcome;     // queued, pending, ping, ignored, unconfigured
    std::string detail;      // why it was ignored, for people
    std::string receivedAt;  // RFC 3339 UTC
    std::vector<std::int64_t> jobIds;
    std::vector<std::int64_t> buildIds;  // builds of those jobs
};

// A request to build one commit of one configured repository.
struct JobRequest {
    std::string repo;     // configured alias
    std::string sha;      // 40 hex characters
    std::string service;  // empty: every service images.json lists
    int attempt = 1;
};

// Checking out one commit and building every service its images.json lists.
struct Job {
    std::int64_t id = 0;
    std::string deliveryId;
    std::string repo;
    std::string sha;
    std::string state;
    std::string error;
    int attempt = 1;
    std::string service;  // when set, the job builds only this service (a retry)
    std::string queuedAt, startedAt, finishedAt;
};

// One image from one commit.
struct Build {
    std::int64_t id = 0;
    std::int64_t jobId = 0;
    std::string deliveryId;
    std::string repo;
    std::string sha;
    std::string service;
    std::string version;
    std::string image;
    std::string state;
    std::string digest;
    std::string error;
    int attempt = 1;
    std::string queuedAt, startedAt, finishedAt;
};

// What recording a delivery did.
struct RecordedDelivery {
    bool duplicate = false;             // the delivery id had been seen before (and built something)
    std::vector<std::int64_t> queued;   // jobs this delivery queued
    std::vector<std::int64_t> pending;  // jobs already queued or running for the same commit
};

}  // namespace slipway
