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

// A commit status as GitHub names its states: pending while a build waits or
// runs, then success, failure (the build failed) or error (slipwayd could not
// finish it: a stop or a crash cut it short).
enum class CommitState { Pending, Success, Failure, Error };
// "pending", "success", "failure", "error": GitHub's words, in the database and the API.
const char* toString(CommitState state);
std::optional<CommitState> parseCommitState(const std::string& text);

// Where a commit status is on its way to GitHub.
enum class StatusDelivery {
    Due,         // to be sent (again, after a failed try)
    Sent,        // GitHub accepted it
    Superseded,  // a newer status of its commit and context came first: never sent
    Abandoned,   // GitHub refused it for good (401, 403, 404, 422...): see its detail
};
// "due", "sent", "superseded", "abandoned".
const char* toString(StatusDelivery delivery);
std::optional<StatusDelivery> parseStatusDelivery(const std::string& text);

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
    std::string node;        // the node that claimed it last; empty while it never ran
    std::string leaseUntil;  // while running: until when its node holds it unless renewed
};

// One platform a build makes, and that platform's image once pushed.
struct BuildPlatform {
    std::string platform;  // "linux/arm64"
    std::string digest;    // of its image's manifest; empty until pushed
    bool operator==(const BuildPlatform& other) const {
        return platform == other.platform && digest == other.digest;
    }
};

// The builds table's platforms column: one line per platform, "<platform>"
// or "<platform> <digest>" (neither contains a space or a newline).
std::string encodePlatforms(const std::vector<BuildPlatform>& platforms);
std::vector<BuildPlatform> decodePlatforms(const std::string& text);

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
    // The commit status context its transitions are reported under
    // ("slipway/api"); empty when its repository reports none.
    std::string statusContext;
    // The platforms it builds, when images.json or builder.platforms names
    // any: with more than one, `digest` is the index's.
    std::vector<BuildPlatform> platforms;
    std::string node;  // the node that ran (or runs) it
};

// One transition of a build, as a commit status to send to GitHub: written in
// the same transaction as the transition itself, so none is lost to a crash.
struct CommitStatus {
    std::int64_t id = 0;
    std::int64_t buildId = 0;
    std::string repo;  // configured alias
    std::string sha;
    std::string context;
    CommitState state = CommitState::Pending;
    StatusDelivery delivery = StatusDelivery::Due;
    int attempts = 0;    // requests made for it so far
    std::string detail;  // what the last request met, for people (GitHub's answer, a network error)
    std::string createdAt, updatedAt;
};

// A piece of a build's log as its node shipped it, in order of `seq`.
struct LogChunk {
    int seq = 0;
    std::string data;
    bool last = false;  // the log ends with it
};

// What recording a delivery did.
struct RecordedDelivery {
    bool duplicate = false;             // the delivery id had been seen before (and built something)
    std::vector<std::int64_t> queued;   // jobs this delivery queued
    std::vector<std::int64_t> pending;  // jobs already queued or running for the same commit
};

}  // namespace slipway
