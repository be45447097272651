#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include "backends/process_runner.h"
#include "daemon/github/webhook_verifier.h"
#include "tests/integration/command.h"
#include "tests/integration/git_fixture.h"
#include "tests/integration/integration_environment.h"
#include "tests/integration/slipway_process.h"
#include "tests/support/temp_dir.h"

namespace slipway::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// The repository GitHub's example payloads come from.
constexpr const char* kExampleRepo = "Codertocat/Hello-World";

// GitHub's example payloads for `event`, from @octokit/webhooks-examples.
std::vector<Object::Ptr> examplesOf(const std::string& event) {
    std::ifstream in(IntegrationEnvironment::webhookExamples());
    Array::Ptr all = Poco::JSON::Parser().parse(in).extract<Array::Ptr>();
    for (std::size_t i = 0; i < all->size(); ++i) {
        Object::Ptr entry = all->getObject(static_cast<unsigned>(i));
        if (entry->getValue<std::string>("name") != event) continue;
        std::vector<Object::Ptr> result;
        Array::Ptr examples = entry->getArray("examples");
        for (std::size_t j = 0; j < examples->size(); ++j) result.push_back(examples->getObject(static_cast<unsigned>(j)));
        return result;
    }
    ADD_FAILURE() << "no examples of " << event;
    return {};
}

std::string text(const Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out);
    return out.str();
}

// A deep copy, so that a test can change an example without touching the others.
Object::Ptr copyOf(const Object::Ptr& object) { return Poco::JSON::Parser().parse(text(object)).extract<Object::Ptr>(); }

std::string outcomeOf(const HttpAnswer& answer) { return answer.json()->getValue<std::string>("outcome"); }

class WebhookIngress : public ::testing::Test {
protected:
    void SetUp() override { git_ = std::make_unique<GitFixture>(dir_.path() + "/repo"); }
    void TearDown() override {
        if (HasFailure() && daemon_) std::cerr << "slipwayd said:\n" << daemon_->output();
        daemon_.reset();
    }

    SlipwayProcess& startDaemon(const std::string& extraIni = "") {
        DaemonOptions options;
        options.registryHost = IntegrationEnvironment::registry().host();
        options.repos = {{"hello", kExampleRepo, git_->url(), "master", "pull_request, push"}};
        options.extraIni = extraIni;
        daemon_ = std::make_unique<SlipwayProcess>(dir_.path() + "/daemon", options);
        return *daemon_;
    }

    // A commit whose images.json lists one service, `name`:`version`.
    std::string commitService(const std::string& name, const std::string& version, const std::string& run = "true") {
        return git_->commit(
            {{name + "/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() + "\nRUN " + run + "\n"},
             {"images.json", R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": ")" + version + R"("}])"}},
            name + " " + version);
    }

    std::int64_t onlyJob(const HttpAnswer& answer) {
        Array::Ptr jobs = answer.json()->getArray("jobs");
        if (!jobs || jobs->size() != 1) {
            ADD_FAILURE() << "expected one job: " << answer.body;
            return 0;
        }
        return jobs->getElement<std::int64_t>(0);
    }

    std::size_t count(const std::string& path, const std::string& key) {
        return daemon_->get(path).json()->getArray(key)->size();
    }

    TempDir dir_;
    std::unique_ptr<GitFixture> git_;
    std::unique_ptr<SlipwayProcess> daemon_;
};

TEST_F(WebhookIngress, ReplaysGitHubsExamplePayloads) {
    const std::string merged = commitService("ingress-hello", "1");
    const std::string pushed = commitService("ingress-hello", "2");
    SlipwayProcess& daemon = startDaemon();
    int sent = 0;

    for (const Object::Ptr& ping : examplesOf("ping")) {
        const HttpAnswer answer = daemon.sendWebhook("ping", "ping-" + std::to_string(++sent), text(ping));
        EXPECT_EQ(answer.status, 200) << answer.body;
        EXPECT_EQ(outcomeOf(answer), "ping");
    }

    // An app's events name no repository: recorded, and they build nothing.
    for (const Object::Ptr& installation : examplesOf("installation")) {
        const HttpAnswer answer =
            daemon.sendWebhook("installation", "installation-" + std::to_string(++sent), text(installation));
        EXPECT_EQ(answer.status, 200) << answer.body;
        EXPECT_EQ(outcomeOf(answer), "ignored");
    }

    Object::Ptr closed;
    for (const Object::Ptr& pr : examplesOf("pull_request")) {
        const std::string action = pr->getValue<std::string>("action");
        if (action == "closed") closed = pr;
        const HttpAnswer answer = daemon.sendWebhook("pull_request", "pr-" + std::to_string(++sent), text(pr));
        EXPECT_EQ(answer.status, 200) << action << ": " << answer.body;
        EXPECT_EQ(outcomeOf(answer), "ignored") << action;
    }
    ASSERT_TRUE(closed) << "the examples have no closed pull request";

    // The closed example as GitHub sends it when the pull request was merged.
    Object::Ptr merge = copyOf(closed);
    merge->getObject("pull_request")->set("merged", true);
    merge->getObject("pull_request")->set("merge_commit_sha", merged);
    const HttpAnswer accepted = daemon.sendWebhook("pull_request", "merge-" + std::to_string(++sent), text(merge));
    EXPECT_EQ(accepted.status, 202) << accepted.body;
    EXPECT_EQ(daemon.waitForJob(onlyJob(accepted))->getValue<std::string>("state"), "succeeded");

    int pushJobs = 0;
    for (const Object::Ptr& example : examplesOf("push")) {
        Object::Ptr push = copyOf(example);
        const bool toBranch = push->getValue<std::string>("ref") == "refs/heads/master";
        if (toBranch) push->set("after", pushed);
        // GitHub can send any event form-encoded; the push examples go that way.
        std::string encoded;
        Poco::URI::encode(text(push), "!#$&'()*+,/:;=?@[]% ", encoded);
        const std::string body = "payload=" + encoded;
        const HttpAnswer answer =
            httpRequest("POST", daemon.url("/hooks/github"),
                        {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"X-GitHub-Event", "push"},
                         {"X-GitHub-Delivery", "push-" + std::to_string(++sent)},
                         {"X-Hub-Signature-256", signatureFor(SlipwayProcess::kSecret, body)}},
                        body);
        if (toBranch && pushJobs++ == 0) {
            EXPECT_EQ(answer.status, 202) << answer.body;
            EXPECT_EQ(daemon.waitForJob(onlyJob(answer))->getValue<std::string>("state"), "succeeded");
        } else if (toBranch) {
            // The same commit again, while or after it was built: nothing new while it is queued or running.
            EXPECT_TRUE(answer.status == 200 || answer.status == 202) << answer.body;
        } else {
            EXPECT_EQ(answer.status, 200) << answer.body;
            EXPECT_EQ(outcomeOf(answer), "ignored") << text(push);
        }
    }
    EXPECT_GE(pushJobs, 1);

    EXPECT_EQ(IntegrationEnvironment::registry().tags("ingress-hello"), (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(count("/api/deliveries?limit=500", "deliveries"), static_cast<std::size_t>(sent));
}

TEST_F(WebhookIngress, BadInputGetsAClearErrorAndRecordsNothing) {
    SlipwayProcess& daemon = startDaemon("[webhook]\nmax_body_bytes = 4096\n[server]\nrequest_timeout = 1\n");
    const std::string sha = "0123456789abcdef0123456789abcdef01234567";
    auto signedPost = [&](const std::map<std::string, std::string>& headers, const std::string& body) {
        std::map<std::string, std::string> all = {{"Content-Type", "application/json"},
                                                  {"X-GitHub-Event", "pull_request"},
                                                  {"X-GitHub-Delivery", "bad-input"},
                                                  {"X-Hub-Signature-256", signatureFor(SlipwayProcess::kSecret, body)}};
        for (const auto& [name, value] : headers) all[name] = value;
        return httpRequest("POST", daemon.url("/hooks/github"), all, body);
    };
    auto expectError = [](const HttpAnswer& answer, int status, const std::string& words) {
        EXPECT_EQ(answer.status, status) << answer.body;
        const Object::Ptr body = answer.json();
        const std::string said = body->optValue<std::string>("error", "") + ": " + body->optValue<std::string>("detail", "");
        EXPECT_NE(said.find(words), std::string::npos) << said;
    };
    auto pr = [&](const std::string& merged, const std::string& mergeSha) {
        return R"({"action": "closed", "pull_request": {"merged": )" + merged + R"(, "merge_commit_sha": )" + mergeSha +
               R"(, "base": {"ref": "master"}}, "repository": {"full_name": ")" + std::string(kExampleRepo) + R"("}})";
    };

    expectError(signedPost({}, "{\"action\": "), 400, "body is not valid JSON");
    expectError(signedPost({{"X-GitHub-Event", ""}}, pr("true", "\"" + sha + "\"")), 400, "X-GitHub-Event");
    expectError(signedPost({{"X-GitHub-Delivery", ""}}, pr("true", "\"" + sha + "\"")), 400, "X-GitHub-Delivery");
    expectError(signedPost({}, pr("\"yes\"", "\"" + sha + "\"")), 400, "pull_request.merged must be true or false");
    expectError(signedPost({}, pr("true", "42")), 400, "pull_request.merge_commit_sha must be a string");
    expectError(signedPost({}, pr("true", "\"" + sha.substr(2) + "\"")), 400, "merge_commit_sha is not 40 hex");
    expectError(signedPost({{"Content-Type", "text/plain"}}, pr("true", "\"" + sha + "\"")), 400, "Content-Type");

    const std::string body = pr("true", "\"" + sha + "\"");
    expectError(signedPost({{"X-Hub-Signature-256", ""}, {"X-Hub-Signature", "sha1=0000"}}, body), 401,
                "X-Hub-Signature-256 is required");

    // Over the limit: refused from Content-Length alone, before any of the body is sent.
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", daemon.port()));
    socket.setReceiveTimeout(Poco::Timespan(5, 0));
    const std::string head =
        "POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-GitHub-Event: push\r\nX-GitHub-Delivery: huge\r\nX-Hub-Signature-256: sha256=00\r\n"
        "Content-Length: 10485760\r\n\r\n";
    socket.sendBytes(head.data(), static_cast<int>(head.size()));
    char buffer[512] = {};
    const int n = socket.receiveBytes(buffer, sizeof buffer - 1);
    EXPECT_NE(std::string(buffer, n > 0 ? n : 0).find("413"), std::string::npos) << std::string(buffer, n > 0 ? n : 0);
    // A body that ends before its Content-Length (the client closed its side)
    // is said to be cut short, not to have a bad signature.
    Poco::Net::StreamSocket cut(Poco::Net::SocketAddress("127.0.0.1", daemon.port()));
    cut.setReceiveTimeout(Poco::Timespan(5, 0));
    const std::string cutRequest =
        "POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-GitHub-Event: push\r\nX-GitHub-Delivery: cut\r\nX-Hub-Signature-256: sha256=00\r\n"
        "Content-Length: 1000\r\n\r\n{\"ref\": ";
    cut.sendBytes(cutRequest.data(), static_cast<int>(cutRequest.size()));
    cut.shutdownSend();
    std::string cutAnswer;
    for (int got; (got = cut.receiveBytes(buffer, sizeof buffer)) > 0;) cutAnswer.append(buffer, static_cast<std::size_t>(got));
    EXPECT_NE(cutAnswer.find("400"), std::string::npos) << cutAnswer;
    EXPECT_NE(cutAnswer.find("the body ended after 8 of the 1000 bytes its Content-Length announced"), std::string::npos)
        << cutAnswer;
    // A chunked body, whose size is only known as it arrives, is refused.
    expectError(signedPost({{"Transfer-Encoding", "chunked"}}, body), 411, "must be sent with Content-Length");

    // A client that stops half-way through its headers is dropped after request_timeout.
    Poco::Net::StreamSocket slow(Poco::Net::SocketAddress("127.0.0.1", daemon.port()));
    slow.sendBytes("POST /hooks/github HTTP/1.1\r\nHost: 127", 39);
    slow.setReceiveTimeout(Poco::Timespan(10, 0));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(daemon.get("/healthz").status, 200);  // others are still served meanwhile
    try {
        EXPECT_LE(slow.receiveBytes(buffer, sizeof buffer), 0);
    } catch (const Poco::Exception&) {
        // a reset connection is a dropped one too
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

    // A body that trickles in, a byte every 100 ms, is answered 408 once
    // request_timeout (1 s) has passed, long before it is complete.
    Poco::Net::StreamSocket trickle(Poco::Net::SocketAddress("127.0.0.1", daemon.port()));
    const std::string trickleHead =
        "POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-GitHub-Event: push\r\nX-GitHub-Delivery: trickle\r\nX-Hub-Signature-256: sha256=00\r\n"
        "Content-Length: 100\r\n\r\n";
    trickle.sendBytes(trickleHead.data(), static_cast<int>(trickleHead.size()));
    const auto trickleStart = std::chrono::steady_clock::now();
    std::string answer;
    for (int i = 0; i < 40; ++i) {  // 40 of the 100 bytes at most
        if (trickle.poll(Poco::Timespan(0, 100000), Poco::Net::Socket::SELECT_READ)) {
            const int got = trickle.receiveBytes(buffer, sizeof buffer - 1);
            answer.assign(buffer, got > 0 ? static_cast<std::size_t>(got) : 0);
            break;
        }
        trickle.sendBytes(" ", 1);
    }
    EXPECT_NE(answer.find("408"), std::string::npos) << answer;
    EXPECT_NE(answer.find("the body did not arrive within server.request_timeout"), std::string::npos) << answer;
    EXPECT_LT(std::chrono::steady_clock::now() - trickleStart, std::chrono::seconds(3));

    EXPECT_EQ(count("/api/deliveries", "deliveries"), 0u);

    // A repository that is not configured is recorded (it passed the signature) and answered 404.
    std::string other = body;
    other.replace(other.find(kExampleRepo), std::string(kExampleRepo).size(), "someone/else");
    expectError(signedPost({{"X-GitHub-Delivery", "elsewhere"}}, other), 404, "someone/else is not configured");
    EXPECT_EQ(count("/api/deliveries", "deliveries"), 1u);
    EXPECT_EQ(count("/api/builds", "builds"), 0u);
}

TEST_F(WebhookIngress, ConcurrentDeliveriesHalfRepeatedYieldExactlyTheExpectedBuilds) {
    // Concurrency 1 behind a slow build keeps the ten commits queued for the
    // whole burst, so "never twice while queued" decides every answer.
    const std::string blocker = commitService("ingress-blocker", "1", "sleep 8");
    std::vector<std::string> commits;
    for (int i = 0; i < 10; ++i) commits.push_back(commitService("ingress-burst", "v" + std::to_string(i)));
    SlipwayProcess& daemon = startDaemon("[builder]\nconcurrency = 1\n");

    auto mergeOf = [](const std::string& sha) {
        return R"({"action": "closed", "pull_request": {"merged": true, "merge_commit_sha": ")" + sha +
               R"(", "base": {"ref": "master"}}, "repository": {"full_name": ")" + std::string(kExampleRepo) + R"("}})";
    };
    const std::int64_t blockerJob = onlyJob(daemon.sendWebhook("pull_request", "blocker", mergeOf(blocker)));

    // 100 deliveries, ten for each commit, each sent twice: 200 requests.
    std::vector<std::pair<std::string, std::string>> requests;
    for (int i = 0; i < 100; ++i) {
        const std::string id = "burst-" + std::to_string(i);
        requests.emplace_back(id, mergeOf(commits[static_cast<std::size_t>(i % 10)]));
        requests.emplace_back(id, mergeOf(commits[static_cast<std::size_t>(i % 10)]));
    }
    std::shuffle(requests.begin(), requests.end(), std::mt19937(42));

    std::mutex mutex;
    std::map<std::string, int> outcomes;
    std::set<std::int64_t> jobs;
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 16; ++t) {
        clients.emplace_back([&] {
            for (std::size_t i = next++; i < requests.size(); i = next++) {
                const HttpAnswer answer = daemon.sendWebhook("pull_request", requests[i].first, requests[i].second);
                const Object::Ptr body = answer.json();
                std::lock_guard<std::mutex> lock(mutex);
                ++outcomes[std::to_string(answer.status) + " " + body->optValue<std::string>("outcome", "?")];
                if (answer.status == 202) jobs.insert(body->getArray("jobs")->getElement<std::int64_t>(0));
            }
        });
    }
    for (std::thread& client : clients) client.join();

    EXPECT_EQ(outcomes, (std::map<std::string, int>{{"202 queued", 10}, {"200 pending", 90}, {"200 duplicate", 100}}));
    ASSERT_EQ(jobs.size(), 10u);
    EXPECT_EQ(daemon.waitForJob(blockerJob)->getValue<std::string>("state"), "succeeded");
    for (std::int64_t job : jobs) EXPECT_EQ(daemon.waitForJob(job)->getValue<std::string>("state"), "succeeded");

    Array::Ptr builds = daemon.get("/api/builds?limit=100").json()->getArray("builds");
    std::multiset<std::string> versions;
    for (std::size_t i = 0; i < builds->size(); ++i) {
        Object::Ptr b = builds->getObject(static_cast<unsigned>(i));
        EXPECT_EQ(b->getValue<std::string>("state"), "succeeded");
        if (b->getValue<std::string>("service") == "ingress-burst") versions.insert(b->getValue<std::string>("version"));
    }
    EXPECT_EQ(builds->size(), 11u);
    EXPECT_EQ(versions, (std::multiset<std::string>{"v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"}));
    EXPECT_EQ(count("/api/deliveries?limit=500", "deliveries"), 101u);
}

TEST_F(WebhookIngress, ADeliveryAnsweredBeforeASigkillIsThereAfterRestart) {
    const std::string sha = commitService("ingress-durable", "1");
    SlipwayProcess& daemon = startDaemon();
    const HttpAnswer accepted = daemon.sendWebhook(
        "pull_request", "durable",
        R"({"action": "closed", "pull_request": {"merged": true, "merge_commit_sha": ")" + sha +
            R"(", "base": {"ref": "master"}}, "repository": {"full_name": ")" + std::string(kExampleRepo) + R"("}})");
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    daemon.kill();

    daemon.restart();
    Array::Ptr deliveries = daemon.get("/api/deliveries").json()->getArray("deliveries");
    ASSERT_EQ(deliveries->size(), 1u);
    EXPECT_EQ(deliveries->getObject(0)->getValue<std::string>("id"), "durable");
    EXPECT_EQ(deliveries->getObject(0)->getArray("jobs")->getElement<std::int64_t>(0), onlyJob(accepted));
    // Queued or interrupted, the job runs to its end after the restart.
    EXPECT_EQ(daemon.waitForJob(onlyJob(accepted))->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(IntegrationEnvironment::registry().tags("ingress-durable"), std::vector<std::string>{"1"});
}

// GitHub's answer to a 404 is the operator's: configure the repository,
// restart, press Redeliver. The redelivery has the same delivery id.
TEST_F(WebhookIngress, ARedeliveryAfterTheRepositoryIsConfiguredBuildsIt) {
    const std::string sha = commitService("ingress-redelivered", "1");
    SlipwayProcess& daemon = startDaemon();
    const std::string body =
        R"({"action": "closed", "pull_request": {"merged": true, "merge_commit_sha": ")" + sha +
        R"(", "base": {"ref": "master"}}, "repository": {"full_name": "someone/else"}})";
    const HttpAnswer refused = daemon.sendWebhook("pull_request", "redelivered", body);
    ASSERT_EQ(refused.status, 404) << refused.body;

    const std::string ini = dir_.path() + "/daemon/slipway.ini";
    std::ifstream in(ini);
    std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string name = std::string("name = ") + kExampleRepo;
    ASSERT_NE(config.find(name), std::string::npos) << config;
    config.replace(config.find(name), name.size(), "name = someone/else");
    std::ofstream(ini) << config;
    daemon.restart();

    const HttpAnswer redelivered = daemon.sendWebhook("pull_request", "redelivered", body);
    ASSERT_EQ(redelivered.status, 202) << redelivered.body;
    EXPECT_EQ(outcomeOf(redelivered), "queued");
    EXPECT_EQ(daemon.waitForJob(onlyJob(redelivered))->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(IntegrationEnvironment::registry().tags("ingress-redelivered"), std::vector<std::string>{"1"});
    Array::Ptr deliveries = daemon.get("/api/deliveries").json()->getArray("deliveries");
    ASSERT_EQ(deliveries->size(), 1u);
    EXPECT_EQ(deliveries->getObject(0)->getValue<std::string>("outcome"), "queued");

    // Built once: now it is a duplicate like any other.
    EXPECT_EQ(outcomeOf(daemon.sendWebhook("pull_request", "redelivered", body)), "duplicate");
}

TEST_F(WebhookIngress, TheDaemonRefusesToStartWithoutASecret) {
    dir_.write("empty.secret", "\n");
    const std::string ini = dir_.write("slipway.ini", "[webhook]\nsecret_file = " + dir_.path() +
                                                          "/empty.secret\n[registry]\nhost = localhost:5443\n"
                                                          "[storage]\nstate_dir = " + dir_.path() + "/state\n");
    std::ostringstream output;
    const ProcessResult result = runProcess(SLIPWAYD_PATH, {"--config", ini}, output, std::chrono::seconds(20));
    EXPECT_FALSE(result.timedOut);
    EXPECT_NE(result.exitCode, 0);
    EXPECT_NE(output.str().find("webhook.secret_file: " + dir_.path() + "/empty.secret is empty"), std::string::npos)
        << output.str();
}

}  // namespace
}  // namespace slipway::testing
