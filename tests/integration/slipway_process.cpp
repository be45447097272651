#include "tests/integration/slipway_process.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <Poco/File.h>

#include "daemon/github/webhook_verifier.h"
#include "tests/integration/command.h"
#include "tests/support/postgres_server.h"

namespace slipway::testing {
namespace {

// The database of each daemon folder, when the suite runs on PostgreSQL: a
// test that starts slipwayd again on the same folder finds its history.
// Dropped when the test process ends.
std::string databaseOf(const std::string& dir) {
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<TestDatabase>> databases;
    std::lock_guard<std::mutex> lock(mutex);
    std::unique_ptr<TestDatabase>& database = databases[dir];
    if (!database) database = std::make_unique<TestDatabase>();
    return database->conninfo();
}

}  // namespace

bool suiteOnPostgres() {
    const char* storage = std::getenv("SLIPWAY_TEST_STORAGE");
    return storage && std::string(storage) == "postgres";
}

SlipwayProcess::SlipwayProcess(const std::string& dir, const DaemonOptions& options)
    : dir_(dir), apiToken_(options.apiToken) {
    Poco::File(dir_ + "/state").createDirectories();
    std::ofstream(dir_ + "/webhook.secret") << kSecret << "\n";
    port_ = freeLoopbackPort();

    std::ofstream ini(dir_ + "/slipway.ini");
    ini << "[server]\nlisten = 127.0.0.1:" << port_ << "\n";
    if (!options.tlsCertificate.empty()) {
        ini << "tls_certificate = " << options.tlsCertificate << "\ntls_key = " << options.tlsKey << "\n";
        origin_ = "https://localhost:" + std::to_string(port_);  // the name the certificate is for
        caFile_ = options.caFile;
    } else {
        origin_ = "http://127.0.0.1:" + std::to_string(port_);
    }
    ini
        << "[webhook]\nsecret_file = " << dir_ << "/webhook.secret\n"
        << "[registry]\nhost = " << options.registryHost << "\n";
    if (!options.registryUser.empty()) {
        std::ofstream(dir_ + "/registry.password") << options.registryPassword << "\n";
        ini << "username = " << options.registryUser << "\npassword_file = " << dir_ << "/registry.password\n";
    }
    ini << "[builder]\nbackend = " << options.backend << "\nconcurrency = 2\n"
        << "[storage]\nstate_dir = " << dir_ << "/state\n";
    const std::string postgres =
        !options.postgres.empty() ? options.postgres : suiteOnPostgres() ? databaseOf(dir_) : std::string();
    if (!postgres.empty()) ini << "backend = postgres\nurl = " << postgres << "\n";
    if (!options.node.empty()) ini << "[cluster]\nnode = " << options.node << "\n";
    for (const TestRepo& repo : options.repos) {
        ini << "[repo." << repo.alias << "]\nname = " << repo.name << "\nurl = " << repo.url
            << "\nbranches = " << repo.branches << "\nevents = " << repo.events << "\n";
        if (!repo.token.empty()) {
            std::ofstream(dir_ + "/" + repo.alias + ".token") << repo.token << "\n";
            ini << "token_file = " << dir_ << "/" << repo.alias << ".token\n";
        }
    }
    if (!apiToken_.empty()) {
        std::ofstream(dir_ + "/api.token") << apiToken_ << "\n";
        ini << "[api]\ntoken_file = " << dir_ << "/api.token\n";
    }
    ini << options.extraIni;
    ini.close();
    start();
}

void SlipwayProcess::start() {
    process_ = std::make_unique<BackgroundProcess>(SLIPWAYD_PATH, std::vector<std::string>{"--config", dir_ + "/slipway.ini"},
                                                   dir_, dir_ + "/slipwayd.log");
    for (int i = 0; i < 100; ++i) {
        try {
            if (get("/healthz").status == 200) return;
        } catch (const Poco::Exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "slipwayd did not answer /healthz within 10 s:\n" << output();
}

void SlipwayProcess::kill() { process_->kill(); }

void SlipwayProcess::restart() {
    process_.reset();
    start();
}

void SlipwayProcess::signal(int signal) { process_->signal(signal); }

int SlipwayProcess::waitForExitAndStart() {
    const int code = process_->wait();
    process_.reset();
    start();
    return code;
}

std::string SlipwayProcess::url(const std::string& path) const {
    return origin_ + path;
}

HttpAnswer SlipwayProcess::sendWebhook(const std::string& event, const std::string& delivery, const std::string& body,
                                       const std::string& path, const std::string& signature) const {
    return httpRequest("POST", url(path),
                       {{"Content-Type", "application/json"},
                        {"X-GitHub-Event", event},
                        {"X-GitHub-Delivery", delivery},
                        {"X-Hub-Signature-256", signature.empty() ? signatureFor(kSecret, body) : signature}},
                       body, caFile_);
}

HttpAnswer SlipwayProcess::get(const std::string& path) const {
    std::map<std::string, std::string> headers;
    if (!apiToken_.empty()) headers["Authorization"] = "Bearer " + apiToken_;
    return httpRequest("GET", url(path), headers, "", caFile_);
}

HttpAnswer SlipwayProcess::post(const std::string& path, const std::string& body) const {
    std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
    if (!apiToken_.empty()) headers["Authorization"] = "Bearer " + apiToken_;
    return httpRequest("POST", url(path), headers, body, caFile_);
}

Poco::JSON::Object::Ptr SlipwayProcess::waitForJob(std::int64_t id, int seconds) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        const HttpAnswer answer = get("/api/jobs/" + std::to_string(id));
        if (answer.status == 200) {
            Poco::JSON::Object::Ptr job = answer.json();
            const std::string state = job->getValue<std::string>("state");
            if (state == "succeeded" || state == "failed") return job;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "job " << id << " did not end within " << seconds << " s:\n" << output();
    return get("/api/jobs/" + std::to_string(id)).json();
}

std::string SlipwayProcess::output() const { return process_->output(); }

std::string pullRequestPayload(const std::string& repo, const std::string& action, bool merged,
                               const std::string& mergeSha, const std::string& base) {
    const std::string sha = mergeSha.empty() ? "null" : "\"" + mergeSha + "\"";
    return R"({"action": ")" + action + R"(", "number": 7, "pull_request": {"number": 7, "state": "closed", "merged": )" +
           (merged ? "true" : "false") + R"(, "merge_commit_sha": )" + sha + R"(, "base": {"ref": ")" + base +
           R"("}, "head": {"ref": "feature"}}, "repository": {"full_name": ")" + repo + R"("}})";
}

}  // namespace slipway::testing
