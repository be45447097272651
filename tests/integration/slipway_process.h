#pragma once

#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "tests/integration/background_process.h"
#include "tests/integration/http_client.h"

namespace slipway::testing {

// A repository as the test configures it.
struct TestRepo {
    std::string alias;
    std::string name;  // GitHub full name
    std::string url;
    std::string branches = "main";
    std::string events = "pull_request";
    std::string token{};  // when set, written to the repository's token_file
};

// What a test sets in slipway.ini beyond the defaults.
struct DaemonOptions {
    std::string backend = "cli";
    std::string registryHost;
    std::string registryUser;      // with registryPassword, written to a password_file
    std::string registryPassword;
    std::vector<TestRepo> repos;
    std::string extraIni;  // appended verbatim
    std::string apiToken;  // when set, written to api.token_file and sent by get() and post()
    // With both set, slipwayd serves HTTPS with them, and the test's requests trust `caFile`.
    std::string tlsCertificate, tlsKey, caFile;
    // A PostgreSQL database (libpq connection string) several nodes share.
    // Empty: SQLite in the state folder, unless SLIPWAY_TEST_STORAGE=postgres
    // (scripts/test.sh's second run of the suite): then a database of the
    // daemon folder's own on the tests' PostgreSQL, kept across restarts.
    std::string postgres;
    std::string node;  // [cluster] node; empty: the host name
};

// Whether SLIPWAY_TEST_STORAGE asks for every slipwayd of the suite to store in PostgreSQL.
bool suiteOnPostgres();

// slipwayd started from the build tree with a config and state dir of its own
// on a free loopback port, over HTTP or HTTPS; stopped with SIGTERM when destroyed.
class SlipwayProcess {
public:
    static constexpr const char* kSecret = "test-webhook-secret";

    SlipwayProcess(const std::string& dir, const DaemonOptions& options);
    SlipwayProcess(const SlipwayProcess&) = delete;
    SlipwayProcess& operator=(const SlipwayProcess&) = delete;

    std::string url(const std::string& path) const;
    unsigned short port() const { return port_; }

    // Kills slipwayd with SIGKILL, as a crash or power cut would, and reaps it.
    void kill();
    // Starts slipwayd again on the same config, state and port.
    void restart();
    // Sends `signal` to slipwayd and leaves it be.
    void signal(int signal);
    // Waits for slipwayd to exit by itself, returns its exit code, and starts it again.
    int waitForExitAndStart();

    // POSTs a webhook signed with kSecret (or with `signature` when given).
    HttpAnswer sendWebhook(const std::string& event, const std::string& delivery, const std::string& body,
                           const std::string& path = "/hooks/github", const std::string& signature = "") const;

    HttpAnswer get(const std::string& path) const;
    HttpAnswer post(const std::string& path, const std::string& body) const;

    // Polls GET /api/jobs/<id> until the job has ended; fails the test after `seconds`.
    Poco::JSON::Object::Ptr waitForJob(std::int64_t id, int seconds = 180) const;

    // What slipwayd wrote to stderr so far.
    std::string output() const;
    int pid() const { return process_->pid(); }

private:
    void start();

    std::string dir_;
    std::string apiToken_;
    std::string origin_;  // http://127.0.0.1:<port> or https://localhost:<port>
    std::string caFile_;
    unsigned short port_ = 0;
    std::unique_ptr<BackgroundProcess> process_;
};

// A GitHub pull_request payload for repository `repo`, as GitHub shapes the fields slipway reads.
std::string pullRequestPayload(const std::string& repo, const std::string& action, bool merged,
                               const std::string& mergeSha, const std::string& base = "main");

}  // namespace slipway::testing
