#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slipway {

// The state of a job or a build: Queued -> Running -> Succeeded | Failed.
// Decisions switch on this; its text exists only in SQL and in JSON.
enum class RunState { Queued, Running, Succeeded, Failed };

// "queued", "running", "succeeded", "failed": the text the database and the API use.
const char* toString(RunState state);
// The state `text` names (as toString writes it); nullopt for any other text.
std::optional<RunState> parseRunState(const std::string& text);
// Succeeded or Failed: nothing will change it any more.
inline bool isFinished(RunState state) { return state == RunState::Succeeded || state == RunState::Failed; }

// What a webhook delivery led to.
enum class DeliveryOutcome {
    Queued,        // jobs were queued
    Pending,       // the commit was already queued or running: nothing new queued
    Ping,          // GitHub's ping
    Ignored,       // recorded, starts nothing (an unmerged PR, an event not configured...)
    Unconfigured,  // names a repository that is not configured
    Duplicate,     // a delivery id seen before: nothing recorded again
};

// "queued", "pending", "ping", "ignored", "unconfigured", "duplicate".
const char* toString(DeliveryOutcome outcome);
// The outcome `text` names; nullopt for any other text.
std::optional<DeliveryOutcome> parseDeliveryOutcome(const std::string& text);

// One webhook delivery as GitHub sent it, and what slipway made of it.
struct Delivery {
    std::string id;          // X-GitHub-Delivery
    std::string event;       // X-GitHub-Event
    std::string action;      // payload "action", empty when the event has none
    std::string repo;        // configured alias, empty when none matched
    DeliveryOutcome outcome = DeliveryOutcome::Ignored;
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
    RunState state = RunState::Queued;
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
    RunState state = RunState::Queued;
    std::string digest;
    std::string error;
    int attempt = 1;
    std::string queuedAt, startedAt, finishedAt;
    std::string contentKey;  // what the image is made from (see content_key.h); empty until known
    bool reused = false;     // succeeded without building: the registry had the same content under the tag
};

// What recording a delivery did.
struct RecordedDelivery {
    bool duplicate = false;             // the delivery id had been seen before (and built something)
    std::vector<std::int64_t> queued;   // jobs this delivery queued
    std::vector<std::int64_t> pending;  // jobs already queued or running for the same commit
};

}  // namespace slipway
