#include <atomic>
#include <csignal>
#include <set>
#include <thread>

#include <Poco/JSON/Array.h>

#include "tests/integration/pipeline_fixture.h"
#include "tests/support/postgres_server.h"

namespace slipway::testing {
namespace {

// Several slipwayd nodes sharing one PostgreSQL (a server of the test's own,
// which it may stop) and the one local engine, each with a state folder of
// its own, as on several machines.
class Cluster : public PipelineTest {
protected:
    void SetUp() override {
        PipelineTest::SetUp();
        runSql(postgres_.conninfo() + " dbname=postgres", "CREATE DATABASE cluster");
    }

    void TearDown() override {
        if (HasFailure()) {
            for (const auto& node : nodes_) {
                if (node) std::cerr << "node said:\n" << node->output();
            }
        }
        nodes_.clear();
        PipelineTest::TearDown();
    }

    // Starts node `name` (its folder under the test's) on the shared database.
    // The lease is short where a test waits for a takeover, and otherwise long
    // enough that a loaded machine never lets one lapse by itself.
    SlipwayProcess& startNode(const std::string& name, int lease = 30) {
        DaemonOptions options = defaultOptions();
        options.postgres = postgres_.conninfo() + " dbname=cluster";
        options.node = name;
        options.extraIni = "[cluster]\nlease = " + std::to_string(lease) + "\n";
        nodes_.push_back(std::make_unique<SlipwayProcess>(dir_.path() + "/" + name, options));
        return *nodes_.back();
    }

    // Sends a merged-PR delivery for `sha` to `node`; returns its answer.
    HttpAnswer merge(SlipwayProcess& node, const std::string& sha, const std::string& delivery) {
        return node.sendWebhook("pull_request", delivery, pullRequestPayload(kRepoName, "closed", true, sha));
    }

    static std::int64_t jobOf(const HttpAnswer& answer) {
        EXPECT_EQ(answer.status, 202) << answer.body;
        return answer.status == 202 ? answer.json()->getArray("jobs")->getElement<std::int64_t>(0) : 0;
    }

    PostgresServer postgres_;
    std::vector<std::unique_ptr<SlipwayProcess>> nodes_;
};

TEST_P(Cluster, DeliveriesSpreadOverThreeNodesAreEachBuiltOnceAndEveryNodeServesThemAll) {
    const std::string name = unique("spread");
    std::vector<std::string> commits;
    for (int i = 0; i < 6; ++i) {
        commits.push_back(git_->commit(files({service(name), {{name + "/payload.txt", std::to_string(i) + "\n"},
                                                               {"images.json", imagesJson({{name, "1." + std::to_string(i)}})}}}),
                                       "release " + std::to_string(i)));
    }
    std::vector<SlipwayProcess*> nodes = {&startNode("n1"), &startNode("n2"), &startNode("n3")};

    std::vector<std::int64_t> jobs;
    for (std::size_t i = 0; i < commits.size(); ++i) {
        jobs.push_back(jobOf(merge(*nodes[i % 3], commits[i], "spread-" + std::to_string(i))));
    }
    // The same delivery to two nodes at once: one records it and queues its job.
    const std::string sha = git_->commit(
        files({service(name), {{name + "/payload.txt", "twice\n"}, {"images.json", imagesJson({{name, "2.0"}})}}}));
    HttpAnswer first, second;
    std::thread a([&] { first = merge(*nodes[0], sha, "spread-twice"); });
    std::thread b([&] { second = merge(*nodes[1], sha, "spread-twice"); });
    a.join();
    b.join();
    std::multiset<int> statuses = {first.status, second.status};
    EXPECT_EQ(statuses, (std::multiset<int>{200, 202})) << first.body << "\n" << second.body;
    const HttpAnswer& queued = first.status == 202 ? first : second;
    const HttpAnswer& duplicate = first.status == 202 ? second : first;
    EXPECT_EQ(duplicate.json()->getValue<std::string>("outcome"), "duplicate");
    jobs.push_back(jobOf(queued));

    std::set<std::string> ranOn;
    for (const std::int64_t job : jobs) {
        // Any node answers for any job.
        const Poco::JSON::Object::Ptr ended = nodes[2]->waitForJob(job, 240);
        ASSERT_EQ(ended->getValue<std::string>("state"), "succeeded") << job;
        EXPECT_EQ(ended->getValue<int>("attempt"), 1) << job;
        ranOn.insert(ended->getValue<std::string>("node"));
        Poco::JSON::Array::Ptr builds = ended->getArray("builds");
        ASSERT_EQ(builds->size(), 1u) << job << " built more than once";
        EXPECT_EQ(builds->getObject(0)->getValue<std::string>("node"), ended->getValue<std::string>("node"));
    }
    EXPECT_EQ(IntegrationEnvironment::registry().tags(name).size(), commits.size() + 1);
    EXPECT_EQ(nodes[0]->get("/api/deliveries?limit=100").json()->getArray("deliveries")->size(), jobs.size());
    // Each node's builds, as any node lists them.
    std::size_t listed = 0;
    for (const std::string& node : ranOn) {
        Poco::JSON::Array::Ptr builds = nodes[1]->get("/api/builds?node=" + node).json()->getArray("builds");
        for (std::size_t i = 0; i < builds->size(); ++i) {
            EXPECT_EQ(builds->getObject(static_cast<unsigned>(i))->getValue<std::string>("node"), node);
        }
        listed += builds->size();
    }
    EXPECT_EQ(listed, jobs.size());
    for (SlipwayProcess* node : nodes) EXPECT_EQ(node->get("/readyz").status, 200) << node->get("/readyz").body;

    // Every node serves every build's log, whichever node ran it.
    const Poco::JSON::Object::Ptr build =
        nodes[0]->get("/api/jobs/" + std::to_string(jobs[0])).json()->getArray("builds")->getObject(0);
    const std::string path = "/api/builds/" + build->getValue<std::string>("id") + "/log";
    const std::string own = nodes[0]->get(path).body;
    EXPECT_NE(own.find("payload"), std::string::npos) << own;
    for (SlipwayProcess* node : nodes) EXPECT_EQ(node->get(path).body, own);
}

// A build's log followed live (?follow=1) from a node that does not run it.
TEST_P(Cluster, ABuildsLogIsFollowedLiveFromAnotherNode) {
    const std::string name = unique("followed");
    const std::string sha = git_->commit(
        files({service(name, "echo early-line && sleep 3 && echo late-line"), {{"images.json", imagesJson({{name, "1"}})}}}));
    SlipwayProcess& one = startNode("one");
    SlipwayProcess& two = startNode("two");
    const std::int64_t job = jobOf(merge(one, sha, "followed"));
    std::string holder, buildId;
    for (int i = 0; i < 200 && holder.empty(); ++i) {
        const Poco::JSON::Object::Ptr running = one.get("/api/jobs/" + std::to_string(job)).json();
        if (running->getValue<std::string>("state") == "running" && running->getArray("builds")->size() == 1) {
            holder = running->getValue<std::string>("node");
            buildId = running->getArray("builds")->getObject(0)->getValue<std::string>("id");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_FALSE(holder.empty()) << "the job never started building";
    SlipwayProcess& reader = holder == "one" ? two : one;
    const HttpAnswer followed = reader.get("/api/builds/" + buildId + "/log?follow=1");
    EXPECT_EQ(followed.status, 200);
    // It ended with the build, and holds all of it.
    const Poco::JSON::Object::Ptr ended = reader.get("/api/jobs/" + std::to_string(job)).json();
    EXPECT_EQ(ended->getArray("builds")->getObject(0)->getValue<std::string>("state"), "succeeded");
    EXPECT_NE(followed.body.find("early-line"), std::string::npos) << followed.body;
    EXPECT_NE(followed.body.find("late-line"), std::string::npos) << followed.body;
    EXPECT_EQ(followed.body, (holder == "one" ? one : two).get("/api/builds/" + buildId + "/log").body);
}

// kill -9 of the node running a build: another node takes the job over once
// the lease has run out and pushes the image; the killed node, started again,
// does not build it a second time.
TEST_P(Cluster, AKilledNodesJobIsTakenOverAfterItsLeaseAndNotDoubledByItsRestart) {
    const std::string name = unique("takeover");
    const std::string sha = git_->commit(files({service(name, "sleep 4"), {{"images.json", imagesJson({{name, "1"}})}}}));
    SlipwayProcess& doomed = startNode("doomed", 5);
    SlipwayProcess& survivor = startNode("survivor", 5);

    // Only the doomed node hears of it; the survivor polls the queue too, so
    // which claims it is a race: the test waits to see whose it is.
    const std::int64_t job = jobOf(merge(doomed, sha, "takeover"));
    std::string holder;
    for (int i = 0; i < 200 && holder.empty(); ++i) {
        const Poco::JSON::Object::Ptr running = doomed.get("/api/jobs/" + std::to_string(job)).json();
        if (running->getValue<std::string>("state") == "running" && running->getArray("builds")->size() == 1) {
            holder = running->getValue<std::string>("node");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_FALSE(holder.empty()) << "the job never started building";
    SlipwayProcess& victim = holder == "doomed" ? doomed : survivor;
    SlipwayProcess& other = holder == "doomed" ? survivor : doomed;
    victim.kill();

    const Poco::JSON::Object::Ptr ended = other.waitForJob(job, 180);
    ASSERT_EQ(ended->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(ended->getValue<std::string>("node"), holder == "doomed" ? "survivor" : "doomed");
    EXPECT_EQ(ended->getValue<int>("attempt"), 2);
    Poco::JSON::Array::Ptr builds = ended->getArray("builds");
    ASSERT_EQ(builds->size(), 2u);
    EXPECT_EQ(builds->getObject(0)->getValue<std::string>("state"), "failed");
    EXPECT_NE(builds->getObject(0)->getValue<std::string>("error").find("stopped renewing its lease"), std::string::npos);
    EXPECT_EQ(builds->getObject(1)->getValue<std::string>("state"), "succeeded");
    const std::string digest = builds->getObject(1)->getValue<std::string>("digest");
    EXPECT_EQ(IntegrationEnvironment::registry().manifestDigest(name, "1"), digest);

    victim.restart();
    // Its start requeues its own running jobs: it has none any more. Its lease
    // keeper has run, and the job stays as the other node ended it.
    EXPECT_EQ(victim.get("/readyz").status, 200);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const Poco::JSON::Object::Ptr after = victim.get("/api/jobs/" + std::to_string(job)).json();
    EXPECT_EQ(after->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(after->getValue<int>("attempt"), 2);
    EXPECT_EQ(after->getArray("builds")->size(), 2u);
    EXPECT_EQ(IntegrationEnvironment::registry().manifestDigest(name, "1"), digest);
}

// A node frozen past its lease (SIGSTOP) comes back to find its job taken:
// it stops that work and records nothing over the new attempt's.
TEST_P(Cluster, ANodeThatComesBackAfterItsLeaseWasTakenRecordsNothing) {
    const std::string name = unique("frozen");
    const std::string sha = git_->commit(files({service(name, "sleep 3"), {{"images.json", imagesJson({{name, "1"}})}}}));
    SlipwayProcess& first = startNode("first", 5);
    const std::int64_t job = jobOf(merge(first, sha, "frozen"));
    Poco::JSON::Object::Ptr ended;
    for (int i = 0; i < 200; ++i) {
        const Poco::JSON::Object::Ptr running = first.get("/api/jobs/" + std::to_string(job)).json();
        if (running->getValue<std::string>("state") == "running" && running->getArray("builds")->size() == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    first.signal(SIGSTOP);
    {
        // Woken whatever happens meanwhile: a stopped process would not hear the SIGTERM that ends the test.
        struct Wake {
            SlipwayProcess& node;
            ~Wake() { node.signal(SIGCONT); }
        } wake{first};
        SlipwayProcess& second = startNode("second", 5);
        ended = second.waitForJob(job, 180);
    }
    ASSERT_EQ(ended->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(ended->getValue<std::string>("node"), "second");
    const std::string digest = IntegrationEnvironment::registry().manifestDigest(name, "1");

    // The first node's build ends now, and finds its lease gone.
    bool stopped = false;
    for (int i = 0; i < 200 && !stopped; ++i) {
        stopped = first.output().find("job " + std::to_string(job) + ": stopped: ") != std::string::npos;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(stopped) << first.output();
    const Poco::JSON::Object::Ptr after = first.get("/api/jobs/" + std::to_string(job)).json();
    EXPECT_EQ(after->getValue<std::string>("node"), "second");
    EXPECT_EQ(after->getValue<int>("attempt"), 2);
    Poco::JSON::Array::Ptr builds = after->getArray("builds");
    ASSERT_EQ(builds->size(), 2u);
    EXPECT_EQ(builds->getObject(0)->getValue<std::string>("state"), "failed");
    EXPECT_EQ(builds->getObject(1)->getValue<std::string>("state"), "succeeded");
    EXPECT_EQ(IntegrationEnvironment::registry().manifestDigest(name, "1"), digest) << "the first node pushed over it";
}

// PostgreSQL stopped for 20 s: webhooks get 503 meanwhile (never a 2xx that
// is not stored), every 2xx is there afterwards, and builds resume.
TEST_P(Cluster, WhilePostgresIsAwayWebhooksGet503AndNothingAnswered2xxIsLost) {
    const std::string name = unique("outage");
    const std::string before = git_->commit(files({service(name), {{"images.json", imagesJson({{name, "1"}})}}}));
    const std::string after = git_->commit({{name + "/payload.txt", "after\n"}, {"images.json", imagesJson({{name, "2"}})}});
    std::vector<SlipwayProcess*> nodes = {&startNode("east"), &startNode("west")};
    ASSERT_EQ(nodes[0]->waitForJob(jobOf(merge(*nodes[0], before, "outage-before")))->getValue<std::string>("state"),
              "succeeded");

    // A delivery every 100 ms, to one node and then the other: unmerged pull
    // requests, recorded and building nothing.
    std::atomic<bool> sending{true};
    std::mutex mutex;
    std::vector<std::string> stored;
    int unavailable = 0;
    int other = 0;
    std::thread sender([&] {
        for (int i = 0; sending; ++i) {
            const std::string id = "outage-" + std::to_string(i);
            HttpAnswer answer;
            try {
                answer = nodes[static_cast<std::size_t>(i % 2)]->sendWebhook(
                    "pull_request", id, pullRequestPayload(kRepoName, "opened", false, before));
            } catch (const std::exception&) {
                answer.status = 0;
            }
            {
                std::lock_guard<std::mutex> lock(mutex);
                if (answer.status >= 200 && answer.status < 300) {
                    stored.push_back(id);
                } else if (answer.status == 503) {
                    ++unavailable;
                } else {
                    ++other;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    std::this_thread::sleep_for(std::chrono::seconds(2));
    postgres_.kill();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_EQ(nodes[1]->get("/readyz").status, 503);
    // A merge while the database is away is refused, to be sent again.
    EXPECT_EQ(merge(*nodes[0], after, "outage-during").status, 503);
    std::this_thread::sleep_for(std::chrono::seconds(19));
    postgres_.start();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    sending = false;
    sender.join();

    EXPECT_GT(unavailable, 100) << "webhooks were answered 503 while PostgreSQL was away";
    EXPECT_EQ(other, 0);
    std::set<std::string> recorded;
    Poco::JSON::Array::Ptr deliveries = nodes[1]->get("/api/deliveries?limit=200").json()->getArray("deliveries");
    for (std::size_t i = 0; i < deliveries->size(); ++i) {
        recorded.insert(deliveries->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
    }
    for (const std::string& id : stored) EXPECT_EQ(recorded.count(id), 1u) << id << " was answered 2xx and lost";
    EXPECT_EQ(recorded.count("outage-during"), 0u);

    // GitHub's Redeliver of the refused merge, now: built.
    const Poco::JSON::Object::Ptr built = nodes[1]->waitForJob(jobOf(merge(*nodes[1], after, "outage-during")));
    EXPECT_EQ(built->getValue<std::string>("state"), "succeeded");
    for (SlipwayProcess* node : nodes) EXPECT_EQ(node->get("/readyz").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, Cluster, ::testing::Values("cli"));

}  // namespace
}  // namespace slipway::testing
