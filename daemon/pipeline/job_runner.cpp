#include "daemon/pipeline/job_runner.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <Poco/Logger.h>
#include <Poco/Timestamp.h>

#include "backends/image_name.h"
#include "daemon/pipeline/build_log.h"
#include "daemon/pipeline/content_key.h"
#include "daemon/pipeline/manifest.h"
#include "daemon/pipeline/release.h"
#include "storage/clock.h"

namespace slipway {
namespace {

// Looked up once: Logger::get takes a lock every request thread would queue on.
Poco::Logger& logger() {
    static Poco::Logger& logger = Poco::Logger::get("slipway.job");
    return logger;
}

// Reports how long a step took however it ends, failures included.
class StepTimer {
public:
    explicit StepTimer(std::function<void(double)> report)
        : report_(std::move(report)), start_(std::chrono::steady_clock::now()) {}
    ~StepTimer() { report_(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()); }
    StepTimer(const StepTimer&) = delete;
    StepTimer& operator=(const StepTimer&) = delete;

private:
    std::function<void(double)> report_;
    std::chrono::steady_clock::time_point start_;
};

// Empty when `relative` (already a valid repository name, so no '..' and no
// leading '/') is a real folder inside `root` holding a regular file at
// `dockerfile` (a path checked by the manifest: no '..' either); otherwise
// why not. Symbolic links are refused at every step, so a hostile repository
// cannot point the build context or its Dockerfile at a host file.
std::string checkServiceFolder(const std::string& root, const std::string& relative, const std::string& dockerfile) {
    const std::string full = relative + "/" + dockerfile;
    std::string path = root;
    std::string::size_type start = 0;
    while (start < full.size()) {
        std::string::size_type end = full.find('/', start);
        const bool last = end == std::string::npos;
        if (last) end = full.size();
        path += "/" + full.substr(start, end - start);
        const bool inFolder = end <= relative.size();
        struct stat info {};
        if (::lstat(path.c_str(), &info) != 0) {
            return inFolder ? "folder " + relative + "/ is missing" : full + " is missing";
        }
        if (last && !S_ISREG(info.st_mode)) return full + " is not a regular file";
        if (S_ISLNK(info.st_mode)) return full.substr(0, end) + " is a symbolic link";
        if (!last && !S_ISDIR(info.st_mode)) return full.substr(0, end) + " is not a folder";
        start = end + 1;
    }
    return {};
}

}  // namespace

JobRunner::JobRunner(JobRunnerSettings settings, Store& store, Checkout& checkout, Backend& backend,
                     ImageRegistry& registry, BuildEvents& events)
    : settings_(std::move(settings)),
      slots_(settings_.concurrency),
      store_(store),
      checkout_(checkout),
      backend_(backend),
      registry_(registry),
      events_(events) {}

void JobRunner::finishJob(Job job, RunState state, const std::string& error) {
    store_.finishJob(job, state, error);
    job.state = state;
    job.error = error;
    events_.jobFinished(job);
}

void JobRunner::finishBuild(Build build, RunState state, const std::string& digest, const std::string& error,
                            bool reused, const std::vector<BuildPlatform>& platforms) {
    store_.finishBuild(build.id, state, digest, error, reused, platforms);
    if (!platforms.empty()) build.platforms = platforms;
    build.state = state;
    build.digest = digest;
    build.error = error;
    build.reused = reused;
    events_.buildFinished(build);
}

std::string JobRunner::logPath(std::int64_t buildId) const {
    return settings_.logDir + "/build-" + std::to_string(buildId) + ".log";
}

void JobRunner::run(const Job& job) {
    const std::string tag = "job " + std::to_string(job.id);
    try {
        runJob(job);
    } catch (const Interrupted&) {
        // Left running in the store: the next start queues it again.
        events_.jobFinished(job);
    } catch (const LeaseLost& e) {
        // Another node (or another run here) has the job now, and its result
        // is that run's to record: nothing of this one's is written.
        logger().warning(tag + ": stopped: " + e.what());
        events_.jobFinished(job);
    } catch (const SqlError& e) {
        if (!e.passing()) {
            failJob(job, tag, e);
            return;
        }
        // The database is away for now: nothing is failed for it. The job's
        // lease lapses and it runs again (here or on another node).
        logger().error(tag + ": left for a later run: " + e.what());
        events_.jobFinished(job);
    } catch (const std::exception& e) {
        failJob(job, tag, e);
    }
}

void JobRunner::failJob(const Job& job, const std::string& tag, const std::exception& e) {
    // The store itself failed (disk full, a constraint). Say so, and try once
    // to end the job; if that fails too, its lease lapses and it is queued again.
    logger().error(tag + ": " + e.what());
    try {
        finishJob(job, RunState::Failed, std::string("slipwayd could not record the job: ") + e.what());
    } catch (const std::exception& again) {
        logger().error(tag + ": cannot record its failure either: " + again.what());
        events_.jobFinished(job);
    }
}

void JobRunner::runJob(const Job& job) {
    const std::string tag = "job " + std::to_string(job.id) + " (delivery " + job.deliveryId + ", " +
                            job.repo + "@" + job.sha.substr(0, 12) + ")";
    events_.jobStarted(job);

    const RepoSettings* repo = repoByAlias(settings_.repos, job.repo);
    if (!repo) return finishJob(job, RunState::Failed, "repository " + job.repo + " is no longer configured");

    std::vector<ServiceEntry> entries;
    std::optional<Checkout::Lease> tree;
    try {
        std::string manifest;
        withRetries(
            settings_.retry,
            [&] {
                tree.emplace(checkout_.prepare(*repo, job.sha, "images.json", kMaxManifestBytes, manifest));
            },
            [](const std::exception& e) {
                const auto* git = dynamic_cast<const GitError*>(&e);
                return git && git->transient();
            },
            [&](const std::string& why, std::chrono::milliseconds wait, int retry) {
                logger().warning(tag + ": " + why + "; trying again in " + std::to_string(wait.count()) + " ms (retry " +
                                 std::to_string(retry) + " of " + std::to_string(settings_.retry.retries) + ")");
            },
            stopping_);
        entries = parseManifest(manifest);
        if (entries.empty()) throw ManifestError("images.json lists no services");
        if (!job.service.empty()) {
            // A retry rebuilds one service, as images.json at that commit describes it.
            std::vector<ServiceEntry> only;
            for (const ServiceEntry& entry : entries) {
                if (entry.name == job.service) only.push_back(entry);
            }
            if (only.empty()) throw ManifestError("images.json at this commit does not list " + job.service);
            entries = only;
        }
    } catch (const Interrupted&) {
        throw;
    } catch (const std::exception& e) {
        if (stopping_) throw Interrupted();
        return finishJob(job, RunState::Failed, e.what());
    }

    // A job run again after a restart keeps the builds that already succeeded.
    std::vector<Build> done = store_.buildsOfJob(job.id);
    auto succeeded = [&](const ServiceEntry& entry) {
        for (const Build& b : done) {
            if (b.service == entry.name && b.version == entry.version && b.state == RunState::Succeeded) return true;
        }
        return false;
    };

    std::vector<PlannedBuild> queued;
    int failures = 0;
    for (ServiceEntry entry : entries) {
        if (entry.error.empty() && succeeded(entry)) continue;
        const std::vector<Platform>& platforms = entry.platforms.empty() ? settings_.platforms : entry.platforms;
        if (entry.error.empty() && entry.platforms.empty()) {
            // images.json checked its own platforms; builder.platforms is checked here.
            const std::string problem = platformTagProblem(entry.version, platforms);
            if (!problem.empty()) {
                entry.error = entry.name + ": with builder.platforms, " + problem +
                              "; shorten the version, or give the entry \"platforms\" of its own";
            }
        }
        Build build;
        build.jobId = job.id;
        build.deliveryId = job.deliveryId;
        build.repo = job.repo;
        build.sha = job.sha;
        build.service = entry.name;
        build.version = entry.version;
        build.attempt = job.attempt;
        if (repo->commitStatuses) build.statusContext = settings_.statusContextPrefix + "/" + entry.name;
        if (!entry.error.empty()) {
            build.image = entry.name;
            build.error = entry.error;
            build.id = store_.addFailedBuild(build);
            build.state = RunState::Failed;
            events_.buildFinished(build);
            ++failures;
            continue;
        }
        build.image = imageReference(settings_.registryHost, entry.name, entry.version);
        PlannedBuild planned{build, entry, "", "", repo->url, platforms};
        for (const Platform& platform : planned.platforms) planned.build.platforms.push_back({platform.text(), ""});
        try {
            planned.tree = tree->folderTree(entry.name);
            planned.build.contentKey =
                contentKey({planned.tree, entry.dockerfile, entry.buildArgs, planned.platforms});
        } catch (const GitError& e) {
            // Said when the build starts, unless a missing folder says more (checkServiceFolder).
            planned.treeError = e.what();
        }
        planned.build.id = store_.addBuild(planned.build);
        events_.buildQueued(planned.build);
        queued.push_back(std::move(planned));
    }
    failures += runBuilds(queued, tree->path());

    if (failures == 0) return finishJob(job, RunState::Succeeded, "");
    finishJob(job, RunState::Failed,
              std::to_string(failures) + " of " + std::to_string(entries.size()) + " services failed; see their builds");
}

// Holds the lock of one image reference; the entry goes when its last user does.
class JobRunner::ImageLock {
public:
    ImageLock(JobRunner& runner, const std::string& image) : runner_(runner), image_(image) {
        {
            std::lock_guard<std::mutex> guard(runner_.imageLocksMutex_);
            entry_ = &runner_.imageLocks_[image_];
            ++entry_->users;
        }
        entry_->mutex.lock();
    }
    ~ImageLock() {
        entry_->mutex.unlock();
        std::lock_guard<std::mutex> guard(runner_.imageLocksMutex_);
        if (--entry_->users == 0) runner_.imageLocks_.erase(image_);
    }
    ImageLock(const ImageLock&) = delete;
    ImageLock& operator=(const ImageLock&) = delete;

private:
    JobRunner& runner_;
    std::string image_;
    ImageLockEntry* entry_ = nullptr;
};

int JobRunner::runBuilds(const std::vector<PlannedBuild>& builds, const std::string& dir) {
    std::atomic<std::size_t> next{0};
    std::atomic<int> failures{0};
    std::atomic<bool> halted{false};
    std::mutex thrownMutex;
    std::exception_ptr interrupted;
    std::exception_ptr thrown;
    auto work = [&] {
        while (!halted && !stopping_) {
            const BuildSlots::Slot slot(slots_);
            if (halted || stopping_) return;
            const std::size_t i = next++;
            if (i >= builds.size()) return;
            try {
                if (!runBuild(builds[i], dir)) ++failures;
            } catch (const Interrupted&) {
                halted = true;
                std::lock_guard<std::mutex> lock(thrownMutex);
                if (!interrupted) interrupted = std::current_exception();
            } catch (...) {
                // Not a build's failure (runBuild records those): the store, say.
                halted = true;
                std::lock_guard<std::mutex> lock(thrownMutex);
                if (!thrown) thrown = std::current_exception();
            }
        }
    };
    // This thread builds too; the helpers end with the job.
    std::vector<std::thread> helpers;
    const std::size_t parallel = std::min<std::size_t>(settings_.concurrency, builds.size());
    for (std::size_t i = 1; i < parallel; ++i) helpers.emplace_back(work);
    work();
    for (std::thread& helper : helpers) helper.join();
    if (interrupted) std::rethrow_exception(interrupted);
    if (thrown) std::rethrow_exception(thrown);
    // A stop that came between builds left some never started: the job is
    // not done, and runs again at the next start.
    if (next < builds.size()) throw Interrupted();
    return failures;
}

Platform JobRunner::enginePlatform(const Retrying& retrying) {
    {
        std::lock_guard<std::mutex> lock(enginePlatformMutex_);
        if (enginePlatform_) return *enginePlatform_;
    }
    // Asked without the lock: while the engine is down, each build waits out
    // its own retries, not the others' too.
    Platform native;
    retrying([&] { native = backend_.ping(); }, false);
    std::lock_guard<std::mutex> lock(enginePlatformMutex_);
    enginePlatform_ = native;
    return native;
}

void JobRunner::checkPlatform(const BuildRequest& request, const Platform& expected, std::ostream& log,
                               const Retrying& retrying) {
    // The variant is not compared: an arm/v7 image built FROM an arm/v6 base
    // says v6, and runs on v7.
    auto sameMachine = [](const Platform& a, const Platform& b) {
        return a.os == b.os && a.architecture == b.architecture;
    };
    Platform built;
    retrying([&] { built = backend_.imagePlatform(request.image); }, false);
    if (sameMachine(built, expected)) return;
    if (!request.platform.empty()) {
        // An index must never name an image under another platform than its own.
        throw std::runtime_error(request.image + " was built for " + built.text() + ", not " + expected.text() +
                                 ": a FROM names an image of one platform only");
    }
    // A build that names no platform. The classic builder takes the engine's
    // copy of a base tag, which a build for another platform may have left as
    // that platform's (its --pull retags it): built again for the engine's
    // own platform, its bases pulled for it.
    log << "\n[slipway: " << request.image << " was built for " << built.text() << ", not the engine's own "
        << expected.text() << "; building it again with --platform " << expected.text()
        << " --pull, as a base on the engine may be another platform's]\n"
        << std::flush;
    // Removed first: the tag would move to the new image and leave this one
    // on the engine with nothing naming it.
    try {
        backend_.remove(request.image, log);
    } catch (const BackendError& e) {
        log << "\n[slipway: could not remove it: " << e.what() << "]\n";
    }
    BuildRequest native = request;
    native.platform = expected.text();
    try {
        retrying([&] { backend_.build(native, log); }, false);
    } catch (const BackendError& e) {
        if (stopping_) throw;
        // A base only on the engine, of another platform, cannot be pulled:
        // built as it was, which its Dockerfile asks for.
        log << "\n[slipway: building it again for " << expected.text() << " failed (" << e.what()
            << "); building it as it was]\n";
        retrying([&] { backend_.build(request, log); }, false);
    }
    retrying([&] { built = backend_.imagePlatform(request.image); }, false);
    if (!sameMachine(built, expected)) {
        // Its Dockerfile asks for another platform's image (FROM --platform=...): as before platforms existed.
        log << "[slipway: warning: " << request.image << " is an image for " << built.text() << ", not "
            << expected.text() << ", as its Dockerfile makes it; pushed as it is (name the platform in images.json's "
            << "\"platforms\" to say so)]\n";
        logger().warning(request.image + " is an image for " + built.text() + ", not the engine's " +
                         expected.text());
    }
}

std::string JobRunner::buildAndPush(const BuildRequest& request, const Platform& expected, const Build& build,
                                    std::ostream& log, std::string& leftover, const Retrying& retrying) {
    std::string digest;
    // A build or push that finds its image, or a layer it builds on, removed
    // meanwhile runs once more (from the layer cache, so in moments): a
    // killed slipwayd's removal of the same tag, and with it the untagged
    // layers under it, may reach the engine after the job, run again, has
    // started building.
    for (bool again = false;; again = true) {
        try {
            if (stopping_) throw Interrupted();
            {
                StepTimer timer([&](double s) { events_.stepTimed(build, BuildStep::Build, s); });
                retrying([&] { backend_.build(request, log); }, false);
            }
            leftover = request.image;
            checkPlatform(request, expected, log, retrying);
            if (stopping_) throw Interrupted();
            // A node that lost the job (frozen past its lease, cut off from
            // the database) pushes nothing over what the new run publishes.
            store_.checkLease(build.jobId, build.attempt);
            StepTimer timer([&](double s) { events_.stepTimed(build, BuildStep::Push, s); });
            retrying([&] { digest = backend_.push(request.image, log); }, true);
            break;
        } catch (const BackendError& e) {
            if (again || stopping_ || e.kind() != FailureKind::ImageVanished) throw;
            log << "\n[slipway: " << e.what() << "; an image it needs was removed meanwhile, building it again]\n"
                << std::flush;
            events_.buildRetrying(build, std::string(e.what()) + "; an image it needs was removed meanwhile",
                                  std::chrono::milliseconds(0), 1, 1);
        }
    }
    // In the registry now: kept or removed as configured.
    leftover.clear();
    if (!settings_.keepImages) {
        try {
            backend_.remove(request.image, log);
        } catch (const BackendError& e) {
            // The image is in the registry: that is the build's result. A
            // local tag that cannot be removed (gone already, or in use) is
            // reported, not turned into a failed build.
            log << "\n[slipway: the image was pushed, but its local tag was not removed: " << e.what() << "]\n";
            logger().warning("build " + std::to_string(build.id) + ": pushed, but " + e.what());
        }
    }
    return digest;
}

std::string JobRunner::buildIndex(const PlannedBuild& planned, const BuildRequest& request, const Platform& native,
                                  const Build& build, std::ostream& log, std::string& leftover,
                                  std::vector<BuildPlatform>& platforms, const Retrying& retrying) {
    // The engine's own platform last: each platform's --pull leaves the
    // engine's copies of the bases as that platform's, and builds that name
    // no platform find them as their own again.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < planned.platforms.size(); ++i) {
        if (planned.platforms[i] != native) order.push_back(i);
    }
    for (std::size_t i = 0; i < planned.platforms.size(); ++i) {
        if (planned.platforms[i] == native) order.push_back(i);
    }
    std::vector<PlatformImage> images(planned.platforms.size());
    for (const std::size_t i : order) {
        const Platform& platform = planned.platforms[i];
        BuildRequest one = request;
        one.image = build.image + "-" + platform.tagSuffix();
        one.platform = platform.text();
        log << "[slipway: " << platform.text() << ": building " << one.image << "]\n" << std::flush;
        const std::string failed = "; nothing is published under " + build.image;
        try {
            const std::string digest = buildAndPush(one, platform, build, log, leftover, retrying);
            platforms[i].digest = digest;
            log << "[slipway: " << platform.text() << ": " << one.image << " is " << digest << "]\n";
            // Its media type and size, as the index names them.
            retrying([&] { images[i] = registry_.describe(build.service, digest); }, true);
        } catch (const Interrupted&) {
            throw;
        } catch (const LeaseLost&) {
            throw;  // not the platform's failure: the job's (runBuild)
        } catch (const SqlError&) {
            throw;
        } catch (const BackendError& e) {
            if (stopping_) throw;
            throw BackendError(e.kind(), platform.text() + ": " + e.what() + failed);
        } catch (const std::exception& e) {
            if (stopping_) throw;
            throw std::runtime_error(platform.text() + ": " + e.what() + failed);
        }
    }
    if (stopping_) throw Interrupted();
    store_.checkLease(build.jobId, build.attempt);
    std::string index;
    retrying([&] { index = registry_.publishIndex(build.service, build.version, images); }, true);
    log << "[slipway: " << build.image << " is an index of " << images.size() << " platforms: " << index << "]\n";
    return index;
}

bool JobRunner::runBuild(const PlannedBuild& planned, const std::string& dir) {
    Build build = planned.build;
    const ServiceEntry& entry = planned.entry;
    store_.startBuild(build.id);
    build.state = RunState::Running;
    events_.buildStarted(build);
    BuildLog log(logPath(build.id), settings_.maxLogBytes);

    std::string problem = checkServiceFolder(dir, build.service, entry.dockerfile);
    if (problem.empty() && build.contentKey.empty()) problem = "cannot read its folder's tree: " + planned.treeError;
    if (!problem.empty()) {
        const std::string error = "service " + build.service + ": " + problem;
        log << error << "\n" << std::flush;  // whole before the build ends: others read it then
        finishBuild(build, RunState::Failed, "", error);
        return false;
    }

    const ImageLock imageLock(*this, build.image);
    // The tag on the engine of an image built but not yet pushed: removed
    // should its push (or the build) fail.
    std::string leftover;
    auto removeLeftover = [&] {
        if (leftover.empty()) return;
        try {
            backend_.remove(leftover, log);
        } catch (const std::exception& removal) {
            logger().warning("build " + std::to_string(build.id) + ": " + removal.what());
        }
    };
    // The platforms it builds, each with its image's digest once pushed.
    std::vector<BuildPlatform> platforms = build.platforms;
    // How the build ends, recorded once the try below is left: a store that
    // fails then must not turn a published image into a failed build
    // (JobRunner::run reports it instead).
    RunState state = RunState::Succeeded;
    std::string digest;
    std::string error;
    bool reused = false;
    auto retrying = [&](const std::function<void()>& step, bool registryToo) {
        withRetries(
            settings_.retry, step,
            [registryToo](const std::exception& e) {
                if (const auto* registry = dynamic_cast<const RegistryError*>(&e)) return registry->transient();
                const auto* failure = dynamic_cast<const BackendError*>(&e);
                if (!failure) return false;
                return failure->kind() == FailureKind::EngineUnreachable ||
                       (registryToo && failure->kind() == FailureKind::RegistryUnavailable);
            },
            [&](const std::string& why, std::chrono::milliseconds wait, int retry) {
                log << "\n[slipway: " << why << "; trying again in " << wait.count() << " ms (retry " << retry << " of "
                    << settings_.retry.retries << ")]\n"
                    << std::flush;
                events_.buildRetrying(build, why, wait, retry, settings_.retry.retries);
            },
            stopping_);
    };
    // A stop that came while another step ran starts no new one.
    auto checkStopping = [this] {
        if (stopping_) throw Interrupted();
    };
    // Points the entry's other tags ("latest"...) at the version. After a
    // build, each is moved; after a reuse only an absent one is made, so that
    // an older commit built again never moves "latest" back. A tag that is a
    // published version (its image's version label says so) is never moved.
    auto pointTags = [&](bool move) {
        for (const std::string& tag : entry.tags) {
            std::optional<PublishedImage> current;
            retrying([&] { current = registry_.find(build.service, tag); }, true);
            if (current && current->labels.count(kLabelVersion) && current->labels.at(kLabelVersion) == tag) {
                throw std::runtime_error("tags lists \"" + tag + "\", a published version of " + build.service +
                                         ", which slipway never moves");
            }
            if (current && current->digest == digest) continue;
            if (current && !move) {
                log << "[slipway: " << build.service << ":" << tag << " names another image; a reused version "
                    << "does not move it]\n";
                continue;
            }
            retrying([&] { registry_.retag(build.service, build.version, tag); }, true);
            log << "[slipway: " << settings_.registryHost << "/" << build.service << ":" << tag << " now names "
                << build.version << "]\n";
        }
    };
    try {
        bool mustBuild = true;
        // Before anything reaches Docker: is this version published already,
        // and from what? The registry, not the store, knows (another slipway,
        // a person, a state folder started afresh may have pushed it).
        if (settings_.republish == Republish::Refuse) {
            std::optional<PublishedImage> published;
            checkStopping();
            retrying([&] { published = registry_.find(build.service, build.version); }, true);
            const ReleaseDecision decision =
                decideRelease({build.service, build.version, build.contentKey, planned.tree}, published);
            if (decision.action == ReleaseAction::Refuse) {
                log << "error: " << decision.reason << "\n";
                state = RunState::Failed;
                error = decision.reason;
                mustBuild = false;
            } else if (decision.action == ReleaseAction::Reuse) {
                log << "[slipway: " << decision.reason << "]\n";
                digest = decision.digest;
                for (BuildPlatform& platform : platforms) {
                    const auto named = published->platformDigests.find(platform.platform);
                    platform.digest = named != published->platformDigests.end() ? named->second
                                                                                : (published->index ? "" : digest);
                }
                reused = true;
                mustBuild = false;
                try {
                    pointTags(false);
                } catch (const std::exception& e) {
                    if (stopping_) throw;
                    state = RunState::Failed;
                    reused = false;
                    error = build.image + " is published (" + digest + "), but " + e.what();
                    log << "error: " << error << "\n";
                }
            }
        }
        if (mustBuild) {
            BuildRequest request{dir + "/" + build.service, entry.dockerfile, build.image, entry.buildArgs, {}, {}};
            request.labels = {
                {kLabelRevision, build.sha},
                // The configuration refuses a URL that carries credentials.
                {kLabelSource, planned.source},
                {kLabelVersion, build.version},
                {kLabelCreated, formatRfc3339(Poco::Timestamp())},
                {kLabelContentKey, build.contentKey},
                {kLabelTree, planned.tree},
                {kLabelBuild, std::to_string(build.id)},
                {kLabelInstance, settings_.instance},
            };
            // Every platform is checked before the first is built: a host
            // without an emulator fails the build at once, saying how to fix it.
            checkStopping();
            const Platform native = enginePlatform(retrying);
            for (const Platform& platform : planned.platforms) {
                const std::string problem = settings_.platformSupport.problem(platform, native);
                if (!problem.empty()) throw std::runtime_error(problem);
            }
            if (planned.platforms.size() <= 1) {
                if (!planned.platforms.empty()) request.platform = planned.platforms.front().text();
                digest = buildAndPush(request, planned.platforms.empty() ? native : planned.platforms.front(), build,
                                      log, leftover, retrying);
                if (!platforms.empty()) platforms.front().digest = digest;
            } else {
                digest = buildIndex(planned, request, native, build, log, leftover, platforms, retrying);
            }
            try {
                pointTags(true);
            } catch (const std::exception& e) {
                // The version is published, with this digest: said as such.
                if (stopping_) throw;
                state = RunState::Failed;
                error = "pushed " + build.image + " (" + digest + "), but " + e.what();
                log << "error: " << error << "\n";
            }
        }
    } catch (const Interrupted&) {
        log << "\n[slipway: interrupted by a stop; the build runs again at the next start]\n";
        throw;
    } catch (const LeaseLost& e) {
        // Not this build's failure, and not this run's to record (run()).
        log << "\n[slipway: stopped: " << e.what() << "]\n" << std::flush;
        removeLeftover();
        throw;
    } catch (const SqlError& e) {
        log << "\n[slipway: the store failed: " << e.what() << "]\n" << std::flush;
        removeLeftover();
        throw;
    } catch (const std::exception& e) {
        if (stopping_) {
            log << "\n[slipway: interrupted by a stop (" << e.what() << "); the build runs again at the next start]\n";
            throw Interrupted();
        }
        log << "error: " << e.what() << "\n";
        // Nothing was published: the failure came before a push ended.
        state = RunState::Failed;
        error = e.what();
        digest.clear();
        reused = false;
    }
    removeLeftover();
    log.flush();  // whole before the build ends: its readers (and the log shipper) take the end as the log's
    finishBuild(build, state, digest, error, reused, platforms);
    return state == RunState::Succeeded;
}

}  // namespace slipway
