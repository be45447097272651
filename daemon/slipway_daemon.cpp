#include "daemon/slipway_daemon.h"

#include <sys/resource.h>

#include <atomic>
#include <iostream>
#include <sstream>
#include <thread>

#include <Poco/AutoPtr.h>
#include <Poco/Environment.h>
#include <Poco/File.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>

#include "daemon/backend_factory.h"
#include "daemon/config/settings.h"
#include "daemon/http/front_door.h"
#include "daemon/http/request_router.h"
#include "daemon/http/tls_context.h"
#include "daemon/pipeline/build_events.h"
#include "daemon/pipeline/job_runner.h"
#include "daemon/pipeline/lease_keeper.h"
#include "daemon/pipeline/leftover_images.h"
#include "daemon/pipeline/scheduler.h"
#include "daemon/github/commit_status_client.h"
#include "daemon/housekeeping.h"
#include "daemon/reporters/commit_status_sender.h"
#include "daemon/reporters/log_reporter.h"
#include "daemon/reporters/log_shipper.h"
#include "daemon/registry/registry_client.h"
#include "daemon/reporters/metrics.h"
#include "daemon/service_manager.h"
#include "daemon/source/checkout.h"
#include "daemon/source/git_handles.h"
#include "daemon/state_lock.h"
#include "daemon/stop_signal.h"
#include "daemon/stderr_channel.h"
#include "storage/clock.h"
#include "storage/postgres_connection.h"
#include "storage/sqlite_connection.h"
#include "storage/store.h"

namespace slipway {

using Poco::Util::Option;
using Poco::Util::OptionCallback;

namespace {

// File descriptors slipwayd needs besides its connections: the database and
// its log, build logs, Git packs, the engine's and registry's sockets, docker
// children's pipes.
constexpr rlim_t kReservedFiles = 256;

// Raises the limit on open files to what the service may have (systemd's
// LimitNOFILE; the soft limit is often 1,024 below a hard one far higher),
// and returns how many connections fit under it: `wanted`, or fewer, said
// in the log, when the limit cannot hold them.
std::size_t openFileLimit(std::size_t wanted, Poco::Logger& log) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    const rlim_t room = limit.rlim_cur > 2 * kReservedFiles ? limit.rlim_cur - kReservedFiles : limit.rlim_cur / 2;
    if (limit.rlim_cur == RLIM_INFINITY || wanted <= room) return wanted;
    log.warning("server.max_connections is " + std::to_string(wanted) + ", but only " +
                std::to_string(limit.rlim_cur) + " files may be open (LimitNOFILE): serving at most " +
                std::to_string(room) + " connections");
    return static_cast<std::size_t>(room);
}

}  // namespace

void SlipwayDaemon::initialize(Poco::Util::Application& self) {
    // One line per event on stderr: journald adds its own timestamp and unit.
    Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter("%p %s: %t"));
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, new StderrChannel));
    Poco::Logger::root().setChannel(channel);
    Poco::Logger::root().setLevel(Poco::Message::PRIO_INFORMATION);
    ServerApplication::initialize(self);
}

void SlipwayDaemon::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    options.addOption(Option("help", "h", "print this help and exit")
                          .callback(OptionCallback<SlipwayDaemon>(this, &SlipwayDaemon::handleHelp)));
    options.addOption(Option("version", "v", "print the version and exit")
                          .callback(OptionCallback<SlipwayDaemon>(this, &SlipwayDaemon::handleVersion)));
    options.addOption(Option("config", "c", "configuration file (default /etc/slipway/slipway.ini)")
                          .argument("FILE")
                          .callback(OptionCallback<SlipwayDaemon>(this, &SlipwayDaemon::handleConfig)));
    options.addOption(Option("check-config", "t",
                             "validate the configuration (keys, secret files, TLS certificate and key) and exit: "
                             "0 when slipwayd could start with it")
                          .callback(OptionCallback<SlipwayDaemon>(this, &SlipwayDaemon::handleCheckConfig)));
}

void SlipwayDaemon::handleHelp(const std::string&, const std::string&) {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[--config FILE] [--check-config]");
    help.setHeader("slipwayd turns merged pull requests into images in a private Docker registry.");
    help.format(std::cout);
    exitEarly_ = true;
    stopOptionsProcessing();
}

void SlipwayDaemon::handleVersion(const std::string&, const std::string&) {
    std::cout << "slipwayd " << SLIPWAY_VERSION << "\n";
    exitEarly_ = true;
    stopOptionsProcessing();
}

void SlipwayDaemon::handleConfig(const std::string&, const std::string& value) { configPath_ = value; }

void SlipwayDaemon::handleCheckConfig(const std::string&, const std::string&) { checkOnly_ = true; }

int SlipwayDaemon::main(const std::vector<std::string>&) {
    if (exitEarly_) return EXIT_OK;
    // Before any thread starts: a SIGTERM during the start stops slipwayd
    // once it is up, rather than killing it half-way.
    const StopSignal stopSignal;
    Poco::Logger& log = Poco::Logger::get("slipway");
    TlsLibrary tls;

    Settings settings;
    Poco::Net::Context::Ptr tlsContext;
    std::unique_ptr<GitHubStatusClient> github;
    try {
        Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini(new Poco::Util::IniFileConfiguration(configPath_));
        // systemd sets it for a unit with LoadCredential=; bare file names in the config are looked up there.
        settings = loadSettings(*ini, Poco::Environment::get("CREDENTIALS_DIRECTORY", ""));
        if (!settings.tlsCertificate.empty()) tlsContext = makeServerTlsContext(settings.tlsCertificate, settings.tlsKey);
        try {
            github = std::make_unique<GitHubStatusClient>(settings.github.apiUrl, settings.github.caFile,
                                                          std::chrono::seconds(10));
        } catch (const Poco::Exception& e) {
            throw ConfigError("github.ca_file: cannot load " + settings.github.caFile + " as PEM certificates: " +
                              e.displayText());
        }
    } catch (const ConfigError& e) {
        log.fatal(configPath_ + ": " + e.what());
        return EXIT_CONFIG;
    } catch (const Poco::Exception& e) {
        log.fatal("cannot read " + configPath_ + ": " + e.displayText());
        return EXIT_CONFIG;
    }
    if (checkOnly_) {
        std::cout << configPath_ << ": ok (" << (tlsContext ? "https" : "http") << " on " << settings.listenHost << ":"
                  << settings.listenPort << ", " << settings.repos.size() << " repositories)\n";
        return EXIT_OK;
    }

    const std::string logDir = settings.stateDir + "/logs";
    const std::string workDir = settings.stateDir + "/work";
    const std::string reposDir = settings.stateDir + "/repos";
    std::unique_ptr<StateLock> stateLock;
    try {
        Poco::File(settings.stateDir).createDirectories();
        stateLock = std::make_unique<StateLock>(settings.stateDir);
    } catch (const std::exception& e) {
        log.fatal(e.what());
        return EXIT_TEMPFAIL;
    }
    try {
        for (const std::string& dir : {logDir, workDir, reposDir}) Poco::File(dir).createDirectories();
    } catch (const Poco::Exception& e) {
        log.fatal("cannot prepare " + settings.stateDir + ": " + e.displayText());
        return EXIT_CANTCREAT;
    }

    GitLibrary git;
    SystemClock clock;
    std::unique_ptr<Store> store;
    const bool postgres = settings.storage == StorageBackend::Postgres;
    const std::string database = postgres ? "the PostgreSQL database (storage.url)" : settings.stateDir + "/slipway.db";
    try {
        std::unique_ptr<SqlConnection> connection;
        if (postgres) {
            auto shared = std::make_unique<PostgresConnection>(settings.postgresUrl, settings.postgresPassword);
            log.information("node " + settings.node + " on " + shared->describe());
            connection = std::move(shared);
        } else {
            connection = std::make_unique<SqliteConnection>(settings.stateDir + "/slipway.db");
        }
        store = std::make_unique<Store>(std::move(connection), clock, NodeIdentity{settings.node, settings.lease});
        // The session of this node's previous run may outlive it for a while
        // (a statement in flight when it was killed): its name is waited for,
        // and only a name another live node keeps is a configuration error.
        bool named = store->claimNodeName();
        for (int waited = 0; !named && waited < 40; ++waited) {
            if (waited == 0) log.warning("node name " + settings.node + " is held on the database; waiting for it");
            std::this_thread::sleep_for(std::chrono::seconds(1));
            named = store->claimNodeName();
        }
        if (!named) {
            log.fatal("another slipwayd runs as node " + settings.node + " on this database: give each node a "
                      "[cluster] node of its own");
            return EXIT_CONFIG;
        }
        const int requeued = store->requeueInterrupted(settings.maxAttempts);
        if (requeued > 0) log.warning(std::to_string(requeued) + " interrupted jobs queued again");
    } catch (const SqlError& e) {
        // A database that is not there yet (starting, or the network): systemd starts slipwayd again.
        log.fatal("cannot open " + database + ": " + e.what());
        return e.failure() == SqlFailure::Unavailable ? EXIT_TEMPFAIL : EXIT_CANTCREAT;
    } catch (const std::exception& e) {
        log.fatal("cannot open " + database + ": " + e.what());
        return EXIT_CANTCREAT;
    }

    std::unique_ptr<Backend> backend = makeBackend(settings);

    // Every job and build transition reaches these, announced once by the runner.
    Metrics metrics;
    LogReporter logReporter;
    BuildEventHub events;
    events.add(logReporter);
    events.add(metrics);
    // Commit statuses: each transition queues its own in the store; the sender
    // wakes on the event and posts them from its thread.
    StatusSenderSettings statusSettings{settings.repos, settings.publicUrl};
    if (postgres) statusSettings.idleCheck = std::chrono::seconds(5);
    CommitStatusSender statuses(statusSettings, *store, *github, metrics);
    events.add(statuses);
    Checkout checkout(reposDir, workDir, settings.fetchTimeout);
    try {
        for (const std::string& lock : checkout.removeStaleLocks()) {
            log.warning("removed " + lock + ", left by a slipwayd that was killed while writing it");
        }
    } catch (const std::exception& e) {
        log.warning(std::string("cannot remove the lock files a killed slipwayd left: ") + e.what());
    }
    try {
        for (const std::string& name : checkout.pruneUnconfigured(settings.repos)) {
            log.information("removed the mirror " + reposDir + "/" + name + ": its repository is no longer configured");
        }
    } catch (const Poco::Exception& e) {
        log.warning("cannot prune the mirrors and work trees of repositories no longer configured: " + e.displayText());
    }
    // The release rules ask the registry with the pushes' credentials.
    RegistryClient registry({settings.registryHost, settings.registryUser, settings.registryPassword},
                            std::chrono::seconds(30));
    // Emulators are looked up on this host: known only for an engine on it.
    const PlatformSupport platformSupport("/proc/sys/fs/binfmt_misc", settings.dockerHost.rfind("unix://", 0) == 0);
    JobRunner runner({settings.registryHost, settings.keepImages, logDir, settings.repos,
                      RetryPolicy{settings.retries, settings.retryDelay, std::chrono::milliseconds(60000)},
                      settings.maxLogBytes, settings.concurrency, settings.republish, settings.github.contextPrefix,
                      store->instanceId(), settings.platforms, platformSupport},
                     *store, checkout, *backend, registry, events);
    // With several nodes, each ships its builds' logs where the others read
    // them. Before the scheduler: destroyed after it, whose workers announce
    // events until they are joined.
    std::unique_ptr<LogShipper> logShipper;
    if (postgres) {
        logShipper = std::make_unique<LogShipper>(
            *store, [&runner](std::int64_t id) { return runner.logPath(id); }, std::chrono::milliseconds(500));
        events.add(*logShipper);
    }
    Scheduler scheduler(*store, runner, settings.concurrency);
    LeaseKeeper leases(
        *store, settings.maxAttempts, [&scheduler] { return scheduler.runningJobs(); },
        [&scheduler](int) { scheduler.wake(); });

    std::atomic<bool> stopping{false};
    const WebhookSettings webhook{settings.maxBodyBytes, [&scheduler] { scheduler.wake(); }};
    const DeliveryIntake intake(settings.webhookSecret, settings.repos, *store);
    const ApiSettings api{settings.apiToken,
                          settings.repos,
                          [&scheduler] { scheduler.wake(); },
                          [&runner](std::int64_t id) { return runner.logPath(id); },
                          settings.node,
                          postgres,
                          [&stopping] { return stopping.load(); }};
    // Set before the front door starts; read by its workers for /metrics.
    const FrontDoor* door = nullptr;
    const RequestRouter router(webhook, intake, api, settings.registryHost, *store, *backend, platformSupport, metrics,
                               [&door] { return door ? door->counts() : FrontDoorCounts{}; });
    FrontDoorSettings limits;
    limits.headerTimeout = settings.headerTimeout;
    limits.bodyTimeout = settings.requestTimeout;
    limits.idleTimeout = settings.idleTimeout;
    limits.maxConnections = openFileLimit(settings.maxConnections, log);
    limits.maxBufferedBytes = settings.maxBufferedBytes;
    limits.bodyLimit = [&router](const std::string& method, const std::string& path) {
        return router.bodyLimit(method, path);
    };
    limits.answeredOnTheLoop = &RequestRouter::answeredWithoutWaiting;

    // After the router: destroyed first, so that its threads are gone before what they use.
    std::unique_ptr<FrontDoor> server;
    std::string listening;  // where, for the log and systemctl status
    // From systemd (slipway.socket), which keeps it open while slipwayd
    // restarts: connections wait in its backlog rather than being refused.
    std::optional<service_manager::InheritedSocket> inherited;
    try {
        try {
            inherited = service_manager::inheritedSocket();
        } catch (const std::runtime_error& e) {
            log.fatal(e.what());
            return EXIT_CONFIG;
        }
        const Poco::Net::SocketAddress address(settings.listenHost, settings.listenPort);
        Poco::Net::ServerSocket socket = inherited ? inherited->socket() : Poco::Net::ServerSocket(address, 1024);
        listening = std::string(tlsContext ? "https://" : "http://") + socket.address().toString();
        if (inherited) {
            listening += " (a socket from systemd)";
            if (socket.address().toString() != address.toString()) {
                log.warning("systemd passed a socket on " + socket.address().toString() + ", not server.listen (" +
                            address.toString() + "); serving on systemd's");
            }
        }
        server = std::make_unique<FrontDoor>(socket, tlsContext, limits, [&router](auto& request, auto& response) {
            router.dispatch(request, response);
        });
        door = server.get();
    } catch (const Poco::Exception& e) {
        log.fatal("cannot listen on " + settings.listenHost + ":" + std::to_string(settings.listenPort) + ": " +
                  e.displayText());
        return EXIT_UNAVAILABLE;
    }

    Housekeeping housekeeping({settings.stateDir, logDir, settings.keepDays, settings.keepBuilds, settings.repos},
                              *store, checkout, clock, [&metrics](const DiskUsage& usage) { metrics.setDiskUsage(usage); });
    statuses.start();
    server->start();
    log.information("listening on " + listening + " (webhooks at /hooks/github and /ciserver/updates), " +
                    std::to_string(settings.repos.size()) + " repositories, registry " + settings.registryHost +
                    ", state in " + settings.stateDir);
    service_manager::notifyReady("listening on " + listening);
    // Fed while every worker is there and the store answers: a worker that
    // died or a store that hangs stops it, and systemd restarts slipwayd.
    // A PostgreSQL that is away answers at once that it is: a restart would
    // not bring it back, and the node reconnects by itself.
    const Watchdog watchdog([&scheduler, &store] {
        try {
            store->countJobs(RunState::Queued);
        } catch (const SqlError& e) {
            if (e.failure() != SqlFailure::Unavailable) throw;
        }
        return scheduler.healthy();
    });
    // Before any job runs (a job could tag the same reference again), but
    // after the webhooks are served: an engine slow to answer delays the
    // builds, not the deliveries. A stop asked for during the start runs no
    // job and no sweep.
    if (!stopSignal.requested()) try {
        std::ostringstream removal;
        for (const std::string& tag :
             removeLeftoverTags(*backend, *store, store->instanceId(), settings.keepImages, removal)) {
            log.information("removed the local tag " + tag + ", left by a build that is no longer running");
        }
        if (!removal.str().empty()) log.warning("removing local tags left by earlier builds: " + removal.str());
    } catch (const BackendError& e) {
        // The engine is down now: the next start tries again.
        log.warning(std::string("cannot look for local tags left by earlier builds: ") + e.what());
    }
    if (!stopSignal.requested()) {
        if (logShipper) logShipper->start();
        leases.start();
        scheduler.start();
        housekeeping.start();
    }

    stopSignal.wait();

    const unsigned busy = scheduler.busyWorkers();
    service_manager::notifyStopping("stopping: waiting for " + std::to_string(busy) + " running jobs");
    log.information("stopping: no new requests; waiting up to " + std::to_string(settings.stopTimeout.count()) +
                    " s (builder.stop_timeout) for " + std::to_string(busy) + " running jobs");
    // Workers claim nothing new, followed logs end, and then the server
    // answers the requests that had begun to arrive. What comes after waits
    // in the listener's backlog: with slipway.socket, for the next slipwayd.
    scheduler.requestStop();
    stopping = true;
    server->stopAccepting();
    if (!server->drain(settings.headerTimeout + settings.requestTimeout)) {
        log.warning("requests still arriving after server.header_timeout + server.request_timeout; closing them");
    }
    server->stop();
    if (!scheduler.waitForWorkers(settings.stopTimeout)) {
        // What is still running is cut short and left `running` in the store:
        // the next start queues it again, as after a crash.
        log.warning(std::to_string(scheduler.busyWorkers()) +
                    " jobs still running after builder.stop_timeout; stopping them, they run again at the next start");
        runner.stop();
        backend->abort();
        if (!scheduler.waitForWorkers(std::chrono::seconds(10))) {
            log.warning("a job did not stop within 10 s; exiting without it");
            std::_Exit(EXIT_OK);  // its threads cannot be joined; the store is consistent
        }
    }
    scheduler.stop();
    if (logShipper) logShipper->stop();
    leases.stop();
    statuses.stop();
    housekeeping.stop();
    log.information("stopped");
    return EXIT_OK;
}

}  // namespace slipway
