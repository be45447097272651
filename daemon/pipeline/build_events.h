#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "storage/records.h"

namespace slipway {

// The step of a build that took the time reported by stepTimed.
enum class BuildStep { Build, Push };

// What becomes of jobs and builds, announced once by the job runner as it
// happens, in the spirit of ninja's Status: the metrics, the daemon's log and
// any reporter (GitHub commit statuses, a chat hook) listen here instead of
// being called from each place an outcome is decided. Every event comes after
// the store recorded the transition, so the job or build carries its id and
// new state; a listener may read the store, never write a build's state.
//
// Called from the job's worker thread and the build slots' threads, several at
// once: an implementation is thread-safe. A listener must not throw and should
// return quickly (it runs on the build's thread).
class BuildEvents {
public:
    virtual ~BuildEvents() = default;

    // A worker claimed `job` (state Running) and starts on it.
    virtual void jobStarted(const Job& job) = 0;
    // `job` ended, Succeeded or Failed with its error, or was interrupted by a
    // stop (still Running in the store: the next start queues it again).
    virtual void jobFinished(const Job& job) = 0;
    // `build` was queued for a service of a running job.
    virtual void buildQueued(const Build& build) = 0;
    // `build` started (state Running).
    virtual void buildStarted(const Build& build) = 0;
    // A step of `build` failed for a transient reason and runs again after
    // `wait`; `retry` counts from 1 up to `of`.
    virtual void buildRetrying(const Build& build, const std::string& why, std::chrono::milliseconds wait, int retry,
                               int of) = 0;
    // `step` of `build` ended, successfully or not, after `seconds`.
    virtual void stepTimed(const Build& build, BuildStep step, double seconds) = 0;
    // `build` ended: Succeeded with its digest, or Failed with its error.
    virtual void buildFinished(const Build& build) = 0;
};

// Hands every event to each listener in the order they were added. Listeners
// are added before the first event and outlive the hub.
class BuildEventHub final : public BuildEvents {
public:
    void add(BuildEvents& listener) { listeners_.push_back(&listener); }

    void jobStarted(const Job& job) override {
        for (BuildEvents* l : listeners_) l->jobStarted(job);
    }
    void jobFinished(const Job& job) override {
        for (BuildEvents* l : listeners_) l->jobFinished(job);
    }
    void buildQueued(const Build& build) override {
        for (BuildEvents* l : listeners_) l->buildQueued(build);
    }
    void buildStarted(const Build& build) override {
        for (BuildEvents* l : listeners_) l->buildStarted(build);
    }
    void buildRetrying(const Build& build, const std::string& why, std::chrono::milliseconds wait, int retry,
                       int of) override {
        for (BuildEvents* l : listeners_) l->buildRetrying(build, why, wait, retry, of);
    }
    void stepTimed(const Build& build, BuildStep step, double seconds) override {
        for (BuildEvents* l : listeners_) l->stepTimed(build, step, seconds);
    }
    void buildFinished(const Build& build) override {
        for (BuildEvents* l : listeners_) l->buildFinished(build);
    }

private:
    std::vector<BuildEvents*> listeners_;
};

}  // namespace slipway
