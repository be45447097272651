#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/platform_support.h"
#include "daemon/config/settings.h"
#include "daemon/pipeline/build_events.h"
#include "daemon/pipeline/build_slots.h"
#include "daemon/pipeline/manifest.h"
#include "daemon/registry/image_registry.h"
#include "daemon/pipeline/retry_policy.h"
#include "daemon/source/checkout.h"
#include "storage/records.h"
#include "storage/store.h"

namespace slipway {

// What a job needs to know beyond the job itself.
struct JobRunnerSettings {
    std::string registryHost;
    bool keepImages = false;
    std::string logDir;   // one log file per build
    std::vector<RepoSettings> repos;
    RetryPolicy retry;    // for fetches, and builds and pushes that failed for a transient reason
    std::size_t maxLogBytes = 10 * 1024 * 1024;
    unsigned concurrency = 1;  // builds at once, across every job (builder.concurrency)
    // A published tag made from other content: refused (the build fails
    // saying so), or built and pushed over as before releases were checked.
    Republish republish = Republish::Refuse;
    // A build of a repository that reports commit statuses records each
    // transition as one, under the context <prefix>/<service>.
    std::string statusContextPrefix = "slipway";
    // Labels every image built (kLabelInstance): see removeLeftoverTags.
    std::string instance;
    // The platforms of an entry that names none (builder.platforms); empty:
    // the engine's own.
    std::vector<Platform> platforms;
    // Whether the engine can build a platform: asked before a build starts.
    PlatformSupport platformSupport;
};

// Runs one claimed job to its end: checkout, images.json, then for each
// service the release rule (release.h: a tag already published from the same
// content is reused, from other content refused), then build, push, move its
// other tags and remove. A service with more than one platform is built and
// pushed once per platform (as <version>-<os>-<arch>), and its version tag
// then written as an index naming them all, only once every one succeeded. Every transition is recorded in the store (which
// hands out the ids) and then announced once to `events`. The services of a job
// build in parallel, up to `concurrency` builds at once across all the jobs
// that run; a service that fails does not stop the others. Never throws: every
// failure ends up in the job's or a build's `error`, or in the log when the
// store itself cannot record it.
class JobRunner {
public:
    JobRunner(JobRunnerSettings settings, Store& store, Checkout& checkout, Backend& backend, ImageRegistry& registry,
              BuildEvents& events);

    void run(const Job& job);

    // slipwayd is stopping: retry waits end at once, and a step that fails from
    // now on (its child killed, say) leaves its job running in the store, for
    // the next start to queue again, instead of recording a failure.
    void stop() { stopping_ = true; }

    // The path of build `buildId`'s log file.
    std::string logPath(std::int64_t buildId) const;

private:
    // A queued build with what the job learned for it from the commit.
    struct PlannedBuild {
        Build build;         // as queued, its content key set when its folder could be read
        ServiceEntry entry;  // its images.json entry
        std::string tree;       // the service folder's tree id
        std::string treeError;  // why it could not be read, when it could not
        std::string source;     // the repository's configured URL
        std::vector<Platform> platforms;  // its own, or builder.platforms; empty: the engine's
    };

    void runJob(const Job& job);

    // Ends `job` as failed because the store failed with `e` (not a build's
    // failure); when that cannot be recorded either, leaves it to lapse.
    void failJob(const Job& job, const std::string& tag, const std::exception& e);

    // Runs `builds` from the checkout in `dir` in parallel, each in a build
    // slot; returns how many failed. After a stop, no further build starts;
    // once every started one has ended, Interrupted (or any other exception a
    // build let through) is rethrown.
    int runBuilds(const std::vector<PlannedBuild>& builds, const std::string& dir);

    // Builds one queued build from the checkout in `dir`, or reuses what the
    // registry has; returns whether it succeeded.
    bool runBuild(const PlannedBuild& planned, const std::string& dir);

    // Runs a step, trying it again after a transient failure of the engine
    // (and of the registry, when the second argument says so).
    using Retrying = std::function<void(const std::function<void()>& step, bool registryToo)>;

    // The platform the engine runs on, asked once.
    Platform enginePlatform(const Retrying& retrying);

    // Checks, before its push, that the image `request` built is of platform
    // `expected` (os and architecture). One built for a platform that is not
    // throws; one built for none is built again for `expected` with its bases
    // pulled, and pushed with a warning if it still is not (its Dockerfile
    // asks for another platform's image).
    void checkPlatform(const BuildRequest& request, const Platform& expected, std::ostream& log,
                       const Retrying& retrying);

    // Builds `request.image`, checks its platform (checkPlatform), and pushes it; returns the pushed digest. While the image
    // is on the engine and not yet pushed, `leftover` names it (for the caller
    // to remove should anything fail); once pushed it is removed unless
    // keep_images.
    std::string buildAndPush(const BuildRequest& request, const Platform& expected, const Build& build,
                             std::ostream& log, std::string& leftover, const Retrying& retrying);

    // Builds and pushes each of `planned`'s platforms as
    // <version>-<os>-<arch> (the engine's own, `native`, last), then writes
    // the index naming them, in the order images.json gives, under the
    // version; returns its digest. `platforms` (one per planned platform)
    // gets each one's digest as it is pushed. A platform that fails throws,
    // naming it, before anything is written under the version.
    std::string buildIndex(const PlannedBuild& planned, const BuildRequest& request, const Platform& native,
                           const Build& build, std::ostream& log, std::string& leftover,
                           std::vector<BuildPlatform>& platforms, const Retrying& retrying);

    // Records the end of `job` or `build` in the store, then announces it.
    void finishJob(Job job, RunState state, const std::string& error);
    void finishBuild(Build build, RunState state, const std::string& digest, const std::string& error,
                     bool reused = false, const std::vector<BuildPlatform>& platforms = {});

    // Two jobs can build the same <registry>/<service>:<version> from different
    // commits (a version that was not bumped). The tag lives on the engine, so
    // one reference is built, pushed and removed by one build at a time, or one
    // build could push the other's image.
    class ImageLock;
    struct ImageLockEntry {
        std::mutex mutex;
        int users = 0;
    };
    std::mutex imageLocksMutex_;
    std::map<std::string, ImageLockEntry> imageLocks_;

    JobRunnerSettings settings_;
    BuildSlots slots_;
    Store& store_;
    Checkout& checkout_;
    Backend& backend_;
    ImageRegistry& registry_;
    BuildEvents& events_;
    std::atomic<bool> stopping_{false};
    std::mutex enginePlatformMutex_;
    std::optional<Platform> enginePlatform_;
};

}  // namespace slipway
