#include "storage/store.h"

#include <atomic>
#include <map>
#include <thread>

#include <Poco/File.h>
#include <Poco/Timespan.h>

#include <gtest/gtest.h>

#include "storage/postgres_connection.h"
#include "storage/sqlite_connection.h"
#include "tests/support/eventually.h"
#include "tests/support/postgres_server.h"
#include "tests/support/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

const std::string kSha = testing::kTestSha;
using testing::recordDelivery;

// Every rule of the store, on SQLite and on PostgreSQL (a real server, see
// postgres_server.h): the same SQL, so the same answers.
class StoreTest : public ::testing::TestWithParam<SqlDialect> {
protected:
    // Another connection to the test's database.
    std::unique_ptr<SqlConnection> connect() {
        if (GetParam() == SqlDialect::Postgres) return std::make_unique<PostgresConnection>(database_->conninfo(), "");
        return std::make_unique<SqliteConnection>(dir_.path() + "/slipway.db");
    }
    // Runs `statement` on the database behind the store's back.
    void sql(const std::string& statement) { connect()->run(statement, {}); }

    Delivery delivery(const std::string& id) {
        Delivery d;
        d.id = id;
        d.event = "pull_request";
        d.action = "closed";
        d.repo = "exam";
        d.outcome = DeliveryOutcome::Queued;
        return d;
    }

    // A build of `service` at version 1 for job `jobId` of repository exam.
    static Build buildOf(std::int64_t jobId, const std::string& service) { return testing::testBuild(jobId, service); }

    testing::TempDir dir_;
    std::unique_ptr<testing::TestDatabase> database_ =
        GetParam() == SqlDialect::Postgres ? std::make_unique<testing::TestDatabase>() : nullptr;
    testing::TestClock clock_;
    Store store_{connect(), clock_};
};

TEST_P(StoreTest, RecordsADeliveryAndQueuesItsJob) {
    const RecordedDelivery r = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}});
    EXPECT_FALSE(r.duplicate);
    ASSERT_EQ(r.queued.size(), 1u);
    const auto job = store_.job(r.queued[0]);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->state, RunState::Queued);
    EXPECT_EQ(job->deliveryId, "d1");
    EXPECT_EQ(job->queuedAt, "2026-11-18T11:06:40.000Z");
    const auto deliveries = store_.recentDeliveries(10);
    ASSERT_EQ(deliveries.size(), 1u);
    EXPECT_EQ(deliveries[0].jobIds, std::vector<std::int64_t>{r.queued[0]});
}

TEST_P(StoreTest, ARepeatedDeliveryIdRecordsNothing) {
    recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}});
    const RecordedDelivery again = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}});
    EXPECT_TRUE(again.duplicate);
    EXPECT_TRUE(again.queued.empty());
    EXPECT_EQ(store_.recentDeliveries(10).size(), 1u);
}

// The operator configures the repository (or its branch) and presses
// Redeliver on GitHub: same delivery id, planned again.
TEST_P(StoreTest, ARedeliveryOfADeliveryThatBuiltNothingIsRecordedAsPlannedNow) {
    for (const std::string outcome : {"unconfigured", "ignored"}) {
        SCOPED_TRACE(outcome);
        const std::string id = "before-" + outcome;
        Delivery first = delivery(id);
        first.repo = outcome == "unconfigured" ? "" : "exam";
        first.outcome = *parseDeliveryOutcome(outcome);
        first.detail = "not built then";
        const std::string firstReceived = formatRfc3339(clock_.now());
        EXPECT_FALSE(recordDelivery(store_, first, {}).duplicate);
        clock_.epoch += 60;

        const std::string sha(40, outcome == "ignored" ? 'b' : 'a');
        const RecordedDelivery again = recordDelivery(store_, delivery(id), {{"exam", sha, "", 1}});
        EXPECT_FALSE(again.duplicate);
        ASSERT_EQ(again.queued.size(), 1u);
        const Delivery recorded = store_.recentDeliveries(1).at(0);
        EXPECT_EQ(recorded.id, id);
        EXPECT_EQ(recorded.outcome, DeliveryOutcome::Queued);
        EXPECT_EQ(recorded.repo, "exam");
        EXPECT_EQ(recorded.detail, "");
        EXPECT_EQ(recorded.receivedAt, firstReceived);
        EXPECT_EQ(recorded.jobIds, again.queued);

        // Once it has queued a job, it is a duplicate like any other.
        EXPECT_TRUE(recordDelivery(store_, delivery(id), {{"exam", sha, "", 1}}).duplicate);
    }
}

TEST_P(StoreTest, ACommitQueuedOrRunningIsNotQueuedAgain) {
    const auto first = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}});
    const auto replay = recordDelivery(store_, delivery("d2"), {{"exam", kSha, "", 1}});
    EXPECT_TRUE(replay.queued.empty());
    EXPECT_EQ(replay.pending, first.queued);
    EXPECT_EQ(store_.recentDeliveries(1)[0].outcome, DeliveryOutcome::Pending);

    const auto claimed = store_.claimJob();
    ASSERT_TRUE(claimed);
    EXPECT_TRUE(recordDelivery(store_, delivery("d3"), {{"exam", kSha, "", 1}}).queued.empty());

    store_.finishJob(*claimed, RunState::Succeeded, "");
    EXPECT_EQ(recordDelivery(store_, delivery("d4"), {{"exam", kSha, "", 1}}).queued.size(), 1u);
}

TEST_P(StoreTest, ARetryOfOneServiceAndABuildOfEveryServiceOfACommitAreEachQueued) {
    std::int64_t pending = 0;
    const std::int64_t all = store_.queueJob({"exam", kSha, "", 1}, pending);
    ASSERT_NE(all, 0);
    // A retry of one service while the commit's whole job waits: its own job.
    const std::int64_t retry = store_.queueJob({"exam", kSha, "api", 2}, pending);
    EXPECT_NE(retry, 0) << "answered pending for job " << pending;
    EXPECT_EQ(store_.job(retry)->service, "api");
    // The same retry again waits for the first; so does the whole commit.
    EXPECT_EQ(store_.queueJob({"exam", kSha, "api", 2}, pending), 0);
    EXPECT_EQ(pending, retry);
    EXPECT_EQ(store_.queueJob({"exam", kSha, "", 1}, pending), 0);
    EXPECT_EQ(pending, all);
    EXPECT_EQ(store_.job(all)->service, "");

    // They run one after the other, never at once: both would build api.
    const std::int64_t other = store_.queueJob({"exam", std::string(40, 'e'), "", 1}, pending);
    EXPECT_EQ(store_.claimJob()->id, all);
    EXPECT_EQ(store_.claimJob()->id, other) << "the retry was claimed while its commit's job ran";
    EXPECT_FALSE(store_.claimJob());
    store_.finishJob(*store_.job(all), RunState::Succeeded, "");
    EXPECT_EQ(store_.claimJob()->id, retry);
}

TEST_P(StoreTest, ClaimsJobsInQueueOrderOnce) {
    const auto a = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    const auto b = recordDelivery(store_, delivery("d2"), {{"other", kSha, "", 1}}).queued.at(0);
    EXPECT_EQ(store_.claimJob()->id, a);
    EXPECT_EQ(store_.claimJob()->id, b);
    EXPECT_FALSE(store_.claimJob());
    EXPECT_EQ(store_.job(a)->state, RunState::Running);
}

TEST_P(StoreTest, RecordsBuildsThroughTheirStates) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    Build b = buildOf(jobId, "api");
    b.deliveryId = "d1";
    const auto id = store_.addBuild(b);
    EXPECT_EQ(store_.build(id)->state, RunState::Queued);
    store_.startBuild(id);
    EXPECT_EQ(store_.build(id)->state, RunState::Running);
    store_.finishBuild(id, RunState::Succeeded, "sha256:abc", "");
    const Build done = *store_.build(id);
    EXPECT_EQ(done.state, RunState::Succeeded);
    EXPECT_EQ(done.digest, "sha256:abc");
    EXPECT_EQ(done.finishedAt, "2026-11-18T11:06:40.000Z");
    EXPECT_EQ(store_.buildsOfJob(jobId).size(), 1u);
}

TEST_P(StoreTest, KeepsABuildsPlatformsWithTheirDigestsOnceKnown) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    Build b = buildOf(jobId, "api");
    b.platforms = {{"linux/amd64", ""}, {"linux/arm/v7", ""}};
    const auto id = store_.addBuild(b);
    EXPECT_EQ(store_.build(id)->platforms, b.platforms) << "named from the start, without digests";
    const std::vector<BuildPlatform> pushed = {{"linux/amd64", "sha256:aa"}, {"linux/arm/v7", "sha256:bb"}};
    store_.finishBuild(id, RunState::Succeeded, "sha256:index", "", false, pushed);
    EXPECT_EQ(store_.build(id)->platforms, pushed);
    // A build that names none stays without, and an end that names none keeps what was queued.
    const auto plain = store_.addBuild(buildOf(jobId, "web"));
    store_.finishBuild(plain, RunState::Failed, "", "exit status 1");
    EXPECT_TRUE(store_.build(plain)->platforms.empty());
    const auto queued = store_.addBuild(b);
    store_.finishBuild(queued, RunState::Failed, "", "interrupted");
    EXPECT_EQ(store_.build(queued)->platforms, b.platforms);
}

TEST_P(StoreTest, PagesBuildsNewestFirst) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();  // builds are written for a job its node runs
    Build b = buildOf(jobId, "");
    for (int i = 0; i < 5; ++i) {
        b.service = "s" + std::to_string(i);
        store_.addFailedBuild(b);
    }
    BuildQuery query;
    query.limit = 2;
    const auto page = store_.findBuilds(query);
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].service, "s4");
    query.before = page.back().id;
    const auto next = store_.findBuilds(query);
    ASSERT_EQ(next.size(), 2u);
    EXPECT_EQ(next[0].service, "s2");
}

TEST_P(StoreTest, FiltersByTimeWindowAndOtherFieldsTogether) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();  // builds are written for a job its node runs
    Build b = buildOf(jobId, "");
    for (int hour = 0; hour < 10; ++hour) {
        clock_.epoch = 1795000000 + hour * 3600;  // 2026-11-18T11:06:40Z + hour
        b.service = hour % 2 ? "odd" : "even";
        store_.addFailedBuild(b);
    }
    BuildQuery query;
    query.since = "2026-11-18T13:00:00.000Z";  // from hour 2
    query.until = "2026-11-18T17:06:40.000Z";  // before hour 6
    auto services = [&] {
        std::vector<std::string> names;
        for (const Build& found : store_.findBuilds(query)) names.push_back(found.service + "@" + found.queuedAt.substr(11, 2));
        return names;
    };
    EXPECT_EQ(services(), (std::vector<std::string>{"odd@16", "even@15", "odd@14", "even@13"}));
    query.service = "odd";
    EXPECT_EQ(services(), (std::vector<std::string>{"odd@16", "odd@14"}));
    query.service.clear();
    query.limit = 1;
    query.before = store_.findBuilds(query).front().id;
    EXPECT_EQ(services(), std::vector<std::string>{"even@15"});
    query.since = "2030-01-01T00:00:00.000Z";
    EXPECT_TRUE(store_.findBuilds(query).empty());
}

TEST_P(StoreTest, FindsShasByPrefix) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();  // builds are written for a job its node runs
    Build b = buildOf(jobId, "s");
    for (const char* sha : {"abc0000000000000000000000000000000000000", "abd0000000000000000000000000000000000000",
                            "ab00000000000000000000000000000000000000"}) {
        b.sha = sha;
        store_.addFailedBuild(b);
    }
    BuildQuery query;
    query.shaPrefix = "abc";
    EXPECT_EQ(store_.findBuilds(query).size(), 1u);
    query.shaPrefix = "ab";
    EXPECT_EQ(store_.findBuilds(query).size(), 3u);
    query.shaPrefix = "abc0000000000000000000000000000000000000";
    EXPECT_EQ(store_.findBuilds(query).size(), 1u);
}

TEST_P(StoreTest, RequeuesJobsInterruptedByAStop) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    const auto buildId = store_.addBuild(buildOf(jobId, "api"));
    store_.startBuild(buildId);

    EXPECT_EQ(store_.requeueInterrupted(3), 1);
    EXPECT_EQ(store_.job(jobId)->state, RunState::Queued);
    EXPECT_EQ(store_.job(jobId)->attempt, 2);
    EXPECT_EQ(store_.build(buildId)->state, RunState::Failed);
    EXPECT_NE(store_.build(buildId)->error.find("interrupted"), std::string::npos);
}

TEST_P(StoreTest, AJobThatEndsEndsItsUnfinishedBuildsInTheSameTransaction) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    const auto running = store_.addBuild(buildOf(jobId, "api"));
    store_.startBuild(running);
    const auto queued = store_.addBuild(buildOf(jobId, "web"));
    store_.finishJob(*store_.job(jobId), RunState::Failed, "slipwayd could not record the job: disk I/O error");
    for (const auto id : {running, queued}) {
        EXPECT_EQ(store_.build(id)->state, RunState::Failed);
        EXPECT_EQ(store_.build(id)->error,
                  "not finished: its job ended first (slipwayd could not record the job: disk I/O error)");
    }
    // The service and version build again in a later job.
    std::int64_t pending = 0;
    const auto again = store_.queueJob({"exam", kSha, "", 2}, pending);
    ASSERT_NE(again, 0);
    store_.claimJob();
    Build rebuilt = buildOf(again, "api");
    rebuilt.attempt = 2;
    EXPECT_NO_THROW(store_.addBuild(rebuilt));
}

TEST_P(StoreTest, AStartEndsBuildsAnEarlierDaemonLeftUnderAnEndedJob) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    const auto buildId = store_.addBuild(buildOf(jobId, "api"));
    store_.startBuild(buildId);
    // As a slipwayd before the job's end was one transaction could leave it.
    sql("UPDATE jobs SET state = 'failed', finished_at = '2026-12-01T00:00:00Z' WHERE id = " + std::to_string(jobId));
    EXPECT_EQ(store_.requeueInterrupted(3), 0);
    EXPECT_EQ(store_.build(buildId)->state, RunState::Failed);
    EXPECT_EQ(store_.build(buildId)->error, "not finished: its job had ended (left by an earlier slipwayd)");
}

// The states and contexts of the due commit statuses, oldest first.
std::vector<std::pair<std::string, CommitState>> due(Store& store) {
    std::vector<std::pair<std::string, CommitState>> statuses;
    for (const CommitStatus& s : store.dueCommitStatuses(100)) statuses.emplace_back(s.context, s.state);
    return statuses;
}

TEST_P(StoreTest, EveryTransitionOfABuildThatReportsQueuesItsCommitStatusAndOnlyTheNewestIsDue) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    Build api = buildOf(jobId, "api");
    api.statusContext = "slipway/api";
    const auto apiId = store_.addBuild(api);
    Build web = buildOf(jobId, "web");
    web.statusContext = "slipway/web";
    const auto webId = store_.addBuild(web);
    const auto quietId = store_.addBuild(buildOf(jobId, "quiet"));  // its repository reports none
    EXPECT_EQ(due(store_), (std::vector<std::pair<std::string, CommitState>>{
                               {"slipway/api", CommitState::Pending}, {"slipway/web", CommitState::Pending}}));

    store_.startBuild(apiId);
    store_.finishBuild(apiId, RunState::Succeeded, "sha256:abc", "");
    store_.startBuild(webId);
    store_.finishBuild(webId, RunState::Failed, "", "step 2/3 failed");
    store_.startBuild(quietId);
    // The pending ones were never sent: GitHub needs only the newest of each context.
    EXPECT_EQ(due(store_), (std::vector<std::pair<std::string, CommitState>>{
                               {"slipway/api", CommitState::Success}, {"slipway/web", CommitState::Failure}}));
    EXPECT_FALSE(store_.commitStatusOf(quietId));
    const std::optional<CommitStatus> first = store_.commitStatusOf(apiId);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->state, CommitState::Success);
    EXPECT_EQ(first->delivery, StatusDelivery::Due);

    store_.recordStatusAttempt(first->id, StatusDelivery::Due, "GitHub answered 502");
    store_.recordStatusAttempt(first->id, StatusDelivery::Sent, "GitHub answered 201");
    const CommitStatus sent = *store_.commitStatusOf(apiId);
    EXPECT_EQ(sent.delivery, StatusDelivery::Sent);
    EXPECT_EQ(sent.attempts, 2);
    EXPECT_EQ(sent.detail, "GitHub answered 201");
    EXPECT_EQ(due(store_), (std::vector<std::pair<std::string, CommitState>>{{"slipway/web", CommitState::Failure}}));
}

TEST_P(StoreTest, ABuildThatAStopOrACrashCutShortReportsAnError) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    Build api = buildOf(jobId, "api");
    api.statusContext = "slipway/api";
    store_.startBuild(store_.addBuild(api));
    EXPECT_EQ(store_.requeueInterrupted(3), 1);
    EXPECT_EQ(due(store_), (std::vector<std::pair<std::string, CommitState>>{{"slipway/api", CommitState::Error}}));

    // The run after the restart builds it again, under the same context.
    store_.claimJob();
    api.attempt = 2;
    store_.addBuild(api);
    EXPECT_EQ(due(store_), (std::vector<std::pair<std::string, CommitState>>{{"slipway/api", CommitState::Pending}}));
    store_.finishJob(*store_.job(jobId), RunState::Failed, "disk I/O error");
    EXPECT_EQ(due(store_), (std::vector<std::pair<std::string, CommitState>>{{"slipway/api", CommitState::Error}}));
}

TEST_P(StoreTest, PrunesOldHistoryButKeepsTheNewestBuildOfEachServiceAndAnythingUnfinished) {
    // Day 0: a job building api and web; day 10: a job building api again; day 20: one still running.
    const auto oldJob = recordDelivery(store_, delivery("old"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    Build api = buildOf(oldJob, "api");
    api.statusContext = "slipway/api";
    const auto oldApi = store_.addBuild(api);
    store_.finishBuild(oldApi, RunState::Succeeded, "sha256:a", "");
    const auto oldWeb = store_.addBuild(buildOf(oldJob, "web"));
    store_.finishBuild(oldWeb, RunState::Succeeded, "sha256:w", "");
    store_.finishJob(*store_.job(oldJob), RunState::Succeeded, "");
    clock_.epoch += 10 * 86400;
    const std::string newer = "89abcdef0123456789abcdef0123456789abcdef";
    const auto newJob = recordDelivery(store_, delivery("new"), {{"exam", newer, "", 1}}).queued.at(0);
    store_.claimJob();
    Build newApi = buildOf(newJob, "api");
    newApi.sha = newer;
    newApi.version = "2";
    const auto newApiId = store_.addBuild(newApi);
    store_.finishBuild(newApiId, RunState::Failed, "", "broken");
    store_.finishJob(*store_.job(newJob), RunState::Failed, "1 of 1 services failed");
    clock_.epoch += 10 * 86400;
    const auto runningJob = recordDelivery(store_, delivery("running"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();

    // Keep 5 days: while GitHub is still to get its status, the day-0 api
    // build stays; once sent, it goes with its status. web's only build
    // stays, being its newest; so does the job that holds it.
    EXPECT_TRUE(store_.pruneHistory(clock_.now() - Poco::Timespan(5, 0, 0, 0, 0), 0).builds.empty());
    store_.recordStatusAttempt(store_.commitStatusOf(oldApi)->id, StatusDelivery::Sent, "GitHub answered 201");
    const Store::Pruned pruned = store_.pruneHistory(clock_.now() - Poco::Timespan(5, 0, 0, 0, 0), 0);
    EXPECT_EQ(pruned.builds, std::vector<std::int64_t>{oldApi});
    EXPECT_FALSE(store_.build(oldApi));
    EXPECT_FALSE(store_.commitStatusOf(oldApi));
    EXPECT_TRUE(store_.build(oldWeb));
    EXPECT_TRUE(store_.job(oldJob));
    EXPECT_EQ(pruned.jobs, 0);
    EXPECT_EQ(pruned.deliveries, 0);
    EXPECT_TRUE(store_.job(runningJob));
    // Keep the newest build alone: nothing more goes, each service's newest stays.
    EXPECT_TRUE(store_.pruneHistory(std::nullopt, 1).builds.empty());

    // A job left without builds goes, and then its delivery.
    sql("UPDATE builds SET repo = 'gone' WHERE id = " + std::to_string(oldWeb));  // no longer its service's newest
    const Store::Pruned again = store_.pruneHistory(clock_.now() - Poco::Timespan(5, 0, 0, 0, 0), 0);
    EXPECT_EQ(again.builds, std::vector<std::int64_t>{});  // still the newest of ('gone', 'web')
    sql("UPDATE builds SET repo = 'exam', service = 'api' WHERE id = " + std::to_string(oldWeb));
    const Store::Pruned last = store_.pruneHistory(clock_.now() - Poco::Timespan(5, 0, 0, 0, 0), 0);
    EXPECT_EQ(last.builds, std::vector<std::int64_t>{oldWeb});
    EXPECT_EQ(last.jobs, 1);
    EXPECT_EQ(last.deliveries, 1);
    EXPECT_FALSE(store_.job(oldJob));
    EXPECT_TRUE(store_.job(newJob));
}

TEST_P(StoreTest, FailsAJobInterruptedTooOften) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    EXPECT_EQ(store_.requeueInterrupted(2), 1);  // attempt 1 of 2 was cut short: once more
    store_.claimJob();
    EXPECT_EQ(store_.requeueInterrupted(2), 0);  // attempt 2 of 2: no more
    const Job job = *store_.job(jobId);
    EXPECT_EQ(job.state, RunState::Failed);
    EXPECT_EQ(job.error, "interrupted 2 times by a stop of slipwayd (builder.max_attempts = 2)");
    EXPECT_FALSE(store_.claimJob());
}

TEST_P(StoreTest, RetriesByHandDoNotCountAsInterruptions) {
    std::int64_t pending = 0;
    const auto jobId = store_.queueJob({"exam", kSha, "api", 5}, pending);  // a fifth attempt, by hand
    store_.claimJob();
    EXPECT_EQ(store_.requeueInterrupted(2), 1);
    EXPECT_EQ(store_.job(jobId)->state, RunState::Queued);
    EXPECT_EQ(store_.job(jobId)->attempt, 6);
}

TEST_P(StoreTest, KeepsWhatWasCommittedAcrossReopening) {
    recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}});
    Store reopened(connect(), clock_);
    EXPECT_EQ(reopened.recentDeliveries(10).size(), 1u);
    EXPECT_TRUE(reopened.claimJob());
}


// Concurrent deliveries share commits (group commit); the rules must hold
// across and within those batches exactly as one at a time.
TEST_P(StoreTest, ConcurrentDeliveriesKeepTheDuplicateAndPendingRules) {
    constexpr int kThreads = 24;
    constexpr int kEach = 40;
    auto sha = [](int n) {
        std::string s = std::to_string(n);
        return std::string(40 - s.size(), 'a') + s;
    };
    std::mutex resultsMutex;
    std::map<std::string, int> firstTimes;               // delivery id -> times it was not a duplicate
    std::map<std::string, std::vector<std::int64_t>> queuedFor;  // sha -> jobs queued for it
    std::map<std::string, std::vector<std::int64_t>> pendingFor;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                // Pairs of threads send the same delivery ids; every fourth
                // delivery names a commit another delivery names too.
                const std::string id = "d" + std::to_string(t / 2) + "-" + std::to_string(i);
                const std::string commit = sha(i % 4 == 0 ? i : (t / 2) * 1000 + i);
                const RecordedDelivery r = recordDelivery(store_, delivery(id), {{"exam", commit, "", 1}});
                std::lock_guard<std::mutex> lock(resultsMutex);
                if (!r.duplicate) ++firstTimes[id];
                for (std::int64_t job : r.queued) queuedFor[commit].push_back(job);
                for (std::int64_t job : r.pending) pendingFor[commit].push_back(job);
            }
        });
    }
    for (std::thread& t : threads) t.join();

    EXPECT_EQ(firstTimes.size(), static_cast<std::size_t>(kThreads / 2 * kEach));
    for (const auto& [id, times] : firstTimes) EXPECT_EQ(times, 1) << id;
    for (const auto& [commit, jobs] : queuedFor) {
        ASSERT_EQ(jobs.size(), 1u) << commit << " queued more than once";
        for (std::int64_t pending : pendingFor[commit]) EXPECT_EQ(pending, jobs[0]) << commit;
    }
    for (const auto& [commit, jobs] : pendingFor) EXPECT_EQ(queuedFor.count(commit), 1u) << commit;
    EXPECT_EQ(store_.countJobs(RunState::Queued), static_cast<std::int64_t>(queuedFor.size()));
    EXPECT_EQ(store_.recentDeliveries(10000).size(), firstTimes.size());
    EXPECT_LE(store_.deliveryCommits(), static_cast<std::size_t>(kThreads * kEach));
}

// One delivery the database refuses, among others committed with it: it
// fails alone, and the others are recorded.
TEST_P(StoreTest, ADeliveryThatFailsInABatchFailsAlone) {
    if (GetParam() == SqlDialect::Sqlite) {
        sql("CREATE TRIGGER poison BEFORE INSERT ON deliveries WHEN NEW.id = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
    } else {
        sql("CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
            "IF NEW.id = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
        sql("CREATE TRIGGER poison BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION poison()");
    }
    constexpr int kThreads = 12;
    std::atomic<int> failed{0};
    std::atomic<int> recorded{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                const bool poisoned = t == 0 && i % 5 == 0;
                const std::string id = poisoned ? "poison" : "d" + std::to_string(t) + "-" + std::to_string(i);
                const std::string n = std::to_string(t * 100 + i);
                try {
                    recordDelivery(store_, delivery(id), {{"exam", std::string(40 - n.size(), 'a') + n, "", 1}});
                    ++recorded;
                } catch (const std::exception& e) {
                    EXPECT_TRUE(poisoned) << id << ": " << e.what();
                    EXPECT_NE(std::string(e.what()).find("poisoned"), std::string::npos) << e.what();
                    ++failed;
                }
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(failed, 4);
    EXPECT_EQ(recorded, kThreads * 20 - 4);
    EXPECT_LT(store_.deliveryCommits(), static_cast<std::size_t>(kThreads * 20)) << "no batch was formed";
    EXPECT_EQ(store_.recentDeliveries(1000).size(), static_cast<std::size_t>(kThreads * 20 - 4));
    EXPECT_EQ(store_.countJobs(RunState::Queued), kThreads * 20 - 4);
}

TEST_P(StoreTest, ADeliveryWithNoOtherInFlightIsACommitOfItsOwn) {
    recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}});
    recordDelivery(store_, delivery("d2"), {{"exam", kSha, "", 1}});
    EXPECT_EQ(store_.deliveryCommits(), 2u);
    EXPECT_EQ(store_.countJobs(RunState::Queued), 1);
}

TEST_P(StoreTest, AClaimIsALeaseOfTheNodeThatRenewsIt) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    const Job claimed = *store_.claimJob();
    EXPECT_EQ(claimed.node, "local");
    EXPECT_EQ(claimed.leaseUntil, "2026-11-18T11:07:40.000Z");  // the default lease, 60 s
    clock_.epoch += 50;
    EXPECT_EQ(store_.renewLeases({jobId}), std::vector<std::int64_t>{jobId});
    EXPECT_EQ(store_.job(jobId)->leaseUntil, "2026-11-18T11:08:30.000Z");
    clock_.epoch += 50;  // within the renewed lease
    EXPECT_EQ(store_.requeueExpiredLeases(3), 0);
    const auto buildId = store_.addBuild(buildOf(jobId, "api"));
    EXPECT_EQ(store_.build(buildId)->node, "local");
    store_.finishJob(claimed, RunState::Succeeded, "");
    EXPECT_TRUE(store_.renewLeases({jobId}).empty());
    EXPECT_TRUE(store_.job(jobId)->leaseUntil.empty());
}

TEST_P(StoreTest, AJobWhoseLeaseRanOutIsQueuedAgainAndItsOldRunRecordsNothing) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    const Job first = *store_.claimJob();
    const auto running = store_.addBuild(buildOf(jobId, "api"));
    store_.startBuild(running);
    const auto waiting = store_.addBuild(buildOf(jobId, "web"));
    clock_.epoch += 61;  // the node froze (or died) past its lease

    Store other(connect(), clock_, {"other", std::chrono::seconds(60)});
    EXPECT_EQ(other.requeueExpiredLeases(3), 1);
    EXPECT_EQ(store_.job(jobId)->state, RunState::Queued);
    EXPECT_EQ(store_.job(jobId)->attempt, 2);
    EXPECT_EQ(store_.build(running)->error,
              "interrupted: its node stopped renewing its lease (it stopped, froze or lost the database)");
    const Job second = *other.claimJob();
    EXPECT_EQ(second.node, "other");
    EXPECT_EQ(second.attempt, 2);

    // The first run comes back: whatever it would write is refused, and nothing of it changes.
    EXPECT_TRUE(store_.renewLeases({jobId}).empty());
    EXPECT_THROW(store_.checkLease(jobId, first.attempt), LeaseLost);
    EXPECT_THROW(store_.startBuild(waiting), LeaseLost);
    EXPECT_THROW(store_.finishBuild(running, RunState::Succeeded, "sha256:" + std::string(64, 'a'), ""), LeaseLost);
    EXPECT_THROW(store_.addBuild(buildOf(jobId, "db")), LeaseLost);
    EXPECT_THROW(store_.finishJob(first, RunState::Succeeded, ""), LeaseLost);
    if (GetParam() == SqlDialect::Postgres) {
        // (One node uses a SQLite file: its restart takes back whatever runs.)
        EXPECT_EQ(store_.requeueInterrupted(3), 0) << "a restart of the first node takes nothing of the second's";
    }
    EXPECT_EQ(store_.build(running)->state, RunState::Failed);
    EXPECT_EQ(store_.job(jobId)->state, RunState::Running);
    EXPECT_EQ(store_.job(jobId)->node, "other");

    // The second run records its work.
    EXPECT_NO_THROW(other.checkLease(jobId, second.attempt));
    Build again = buildOf(jobId, "api");
    again.attempt = second.attempt;
    const auto rebuilt = other.addBuild(again);
    other.startBuild(rebuilt);
    other.finishBuild(rebuilt, RunState::Succeeded, "sha256:" + std::string(64, 'b'), "");
    other.finishJob(second, RunState::Succeeded, "");
    EXPECT_EQ(store_.job(jobId)->state, RunState::Succeeded);
    EXPECT_EQ(store_.build(rebuilt)->node, "other");
    BuildQuery onOther;
    onOther.node = "other";
    ASSERT_EQ(store_.findBuilds(onOther).size(), 1u);
    EXPECT_EQ(store_.findBuilds(onOther)[0].id, rebuilt);
}

TEST_P(StoreTest, AJobLosesItsLeaseAfterMaxAttemptsOfThemFails) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    for (int attempt = 1; attempt <= 2; ++attempt) {
        ASSERT_TRUE(store_.claimJob());
        clock_.epoch += 61;
        store_.requeueExpiredLeases(2);
    }
    const Job job = *store_.job(jobId);
    EXPECT_EQ(job.state, RunState::Failed);
    EXPECT_EQ(job.error, "interrupted 2 times by the loss of its node's lease (builder.max_attempts = 2)");
}

TEST_P(StoreTest, KeepsABuildsLogChunksByteForByteInOrder) {
    const auto jobId = recordDelivery(store_, delivery("d1"), {{"exam", kSha, "", 1}}).queued.at(0);
    store_.claimJob();
    const auto buildId = store_.addBuild(buildOf(jobId, "api"));
    static const char kBytes[] = "step 1\n\0\xff\xfe not UTF-8\n";
    const std::string binary(kBytes, sizeof kBytes - 1);
    store_.appendLog(buildId, {1, binary, false});
    store_.appendLog(buildId, {2, "step 2\n", false});
    store_.appendLog(buildId, {2, "shipped twice\n", false});  // a round that failed after its write
    store_.appendLog(buildId, {3, "", true});
    const std::vector<LogChunk> all = store_.logChunks(buildId, 0);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].data, binary);
    EXPECT_EQ(all[1].data, "step 2\n");
    EXPECT_FALSE(all[1].last);
    EXPECT_TRUE(all[2].last);
    ASSERT_EQ(store_.logChunks(buildId, 2).size(), 1u);
    EXPECT_TRUE(store_.logChunks(buildId, 3).empty());

    // Pruned with its build.
    store_.finishBuild(buildId, RunState::Failed, "", "failed");
    store_.finishJob(*store_.job(jobId), RunState::Failed, "1 of 1 services failed");
    const auto newer = recordDelivery(store_, delivery("d2"), {{"exam", std::string(40, 'b'), "", 1}}).queued.at(0);
    store_.claimJob();
    store_.finishBuild(store_.addBuild(buildOf(newer, "api")), RunState::Succeeded, "sha256:" + std::string(64, 'c'), "");
    store_.finishJob(*store_.job(newer), RunState::Succeeded, "");
    EXPECT_EQ(store_.pruneHistory(std::nullopt, 1).builds, std::vector<std::int64_t>{buildId});
    EXPECT_TRUE(store_.logChunks(buildId, 0).empty());
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, StoreTest, ::testing::Values(SqlDialect::Sqlite, SqlDialect::Postgres),
                         [](const ::testing::TestParamInfo<SqlDialect>& info) {
                             return info.param == SqlDialect::Sqlite ? "Sqlite" : "Postgres";
                         });

// Several nodes on one PostgreSQL database.
class SharedStoreTest : public ::testing::Test {
protected:
    Delivery delivery(const std::string& id) {
        return {id, "pull_request", "closed", "exam", DeliveryOutcome::Queued, "", "", {}, {}};
    }
    std::unique_ptr<Store> node(const std::string& name) {
        return std::make_unique<Store>(std::make_unique<PostgresConnection>(database_.conninfo(), ""), clock_,
                                       NodeIdentity{name, std::chrono::seconds(60)});
    }
    // Queues two commits and has `a` claim the first and `b` the second.
    std::pair<Job, Job> oneJobEach(Store& a, Store& b) {
        recordDelivery(a, delivery("d1"), {{"exam", std::string(40, 'e'), "", 1}});
        recordDelivery(a, delivery("d2"), {{"exam", std::string(40, 'f'), "", 1}});
        const Job ofA = *a.claimJob();
        return {ofA, *b.claimJob()};
    }

    testing::TestDatabase database_;
    testing::TestClock clock_;
};

TEST_F(SharedStoreTest, NodesClaimingAtOnceNeverClaimTheSameJob) {
    std::unique_ptr<Store> a = node("a");
    std::unique_ptr<Store> b = node("b");
    constexpr int kJobs = 60;
    for (int i = 0; i < kJobs; ++i) {
        const std::string n = std::to_string(i);
        recordDelivery(*a, delivery("d" + n), {{"exam", std::string(40 - n.size(), 'c') + n, "", 1}});
    }
    std::mutex mutex;
    std::map<std::int64_t, std::string> claimedBy;
    int twice = 0;
    auto claim = [&](Store& store, const std::string& name) {
        while (std::optional<Job> job = store.claimJob()) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!claimedBy.emplace(job->id, name).second) ++twice;
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(claim, std::ref(t % 2 ? *a : *b), t % 2 ? "a" : "b");
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(twice, 0);
    EXPECT_EQ(claimedBy.size(), static_cast<std::size_t>(kJobs));
    for (const auto& [id, name] : claimedBy) EXPECT_EQ(a->job(id)->node, name);
}

TEST_F(SharedStoreTest, TheSameDeliveryPostedToTwoNodesAtOnceQueuesOneJob) {
    std::unique_ptr<Store> a = node("a");
    std::unique_ptr<Store> b = node("b");
    for (int i = 0; i < 30; ++i) {
        const std::string id = "twice-" + std::to_string(i);
        const std::string sha = std::string(38, 'd') + (i < 10 ? "0" : "") + std::to_string(i);
        RecordedDelivery onA, onB;
        std::thread first([&] { onA = recordDelivery(*a, delivery(id), {{"exam", sha, "", 1}}); });
        std::thread second([&] { onB = recordDelivery(*b, delivery(id), {{"exam", sha, "", 1}}); });
        first.join();
        second.join();
        EXPECT_NE(onA.duplicate, onB.duplicate) << id << ": exactly one node records it";
        EXPECT_EQ(onA.queued.size() + onB.queued.size(), 1u) << id;
    }
    EXPECT_EQ(a->countJobs(RunState::Queued), 30);
}

TEST_F(SharedStoreTest, ARestartRequeuesOnlyItsOwnNodesJobs) {
    std::unique_ptr<Store> a = node("a");
    std::unique_ptr<Store> b = node("b");
    const auto [ofA, ofB] = oneJobEach(*a, *b);
    EXPECT_EQ(a->requeueInterrupted(3), 1);
    EXPECT_EQ(a->job(ofA.id)->state, RunState::Queued);
    EXPECT_EQ(a->job(ofB.id)->state, RunState::Running);
}

TEST_F(SharedStoreTest, ANodeNameIsTakenByOneLiveNodeAtATime) {
    std::unique_ptr<Store> a = node("same");
    std::unique_ptr<Store> b = node("same");
    EXPECT_TRUE(a->claimNodeName());
    EXPECT_TRUE(a->claimNodeName()) << "its own, asked again";
    EXPECT_FALSE(b->claimNodeName());
    EXPECT_TRUE(node("other")->claimNodeName());
    a.reset();
    EXPECT_TRUE(testing::eventually([&] { return b->claimNodeName(); }));
}

// A node's requeue and another's work on the same job meet on the job's row:
// whichever comes second sees what the first did.
TEST_F(SharedStoreTest, ARequeueAndTheOldNodesWritesNeverBothGoThrough) {
    std::unique_ptr<Store> a = node("a");
    std::unique_ptr<Store> b = node("b");
    for (int round = 0; round < 20; ++round) {
        const std::string n = std::to_string(round);
        recordDelivery(*a, delivery("race-" + n), {{"exam", std::string(40 - n.size(), '7') + n, "", 1}});
        const Job job = *a->claimJob();
        Build api = testing::testBuild(job.id, "api", job.sha);
        api.statusContext = "slipway/api";
        const std::int64_t running = a->addBuild(api);
        a->startBuild(running);
        clock_.epoch += 61;  // a's lease ran out; b looks while a ends its build
        bool ended = false;
        std::thread finishing([&] {
            try {
                a->finishBuild(running, RunState::Succeeded, "sha256:" + std::string(64, 'd'), "");
                a->finishJob(job, RunState::Succeeded, "");
                ended = true;
            } catch (const LeaseLost&) {
            }
        });
        const int requeued = b->requeueExpiredLeases(3);
        finishing.join();
        const Job after = *b->job(job.id);
        const Build build = *b->build(running);
        if (ended) {
            EXPECT_EQ(requeued, 0) << round;
            EXPECT_EQ(after.state, RunState::Succeeded) << round;
            EXPECT_EQ(build.state, RunState::Succeeded) << round;
        } else {
            // Requeued, with the build ended by whichever came first: its
            // success stands (the next attempt skips it), or it failed here.
            EXPECT_EQ(requeued, 1) << round;
            EXPECT_EQ(after.state, RunState::Queued) << round;
            const Job again = *b->claimJob();  // out of the way for the next round
            b->finishJob(again, RunState::Failed, "given up by the test");
        }
        // GitHub's newest word on the build is its end as recorded, never an
        // error over a success.
        const std::optional<CommitStatus> status = b->commitStatusOf(running);
        ASSERT_TRUE(status) << round;
        EXPECT_EQ(status->state, build.state == RunState::Succeeded ? CommitState::Success : CommitState::Error)
            << round;
    }
}

TEST_F(SharedStoreTest, EachNodeCountsItsOwnRunningBuilds) {
    std::unique_ptr<Store> a = node("a");
    std::unique_ptr<Store> b = node("b");
    const auto [ofA, ofB] = oneJobEach(*a, *b);
    for (const char* service : {"api", "web"}) a->startBuild(a->addBuild(testing::testBuild(ofA.id, service, ofA.sha)));
    b->startBuild(b->addBuild(testing::testBuild(ofB.id, "api", ofB.sha)));
    EXPECT_EQ(a->countOwnBuilds(RunState::Running), 2);
    EXPECT_EQ(b->countOwnBuilds(RunState::Running), 1);
}

TEST_F(SharedStoreTest, OneNodeAtATimeHoldsADutyAndADeadNodeHandsItOn) {
    std::unique_ptr<Store> a = node("a");
    std::unique_ptr<Store> b = node("b");
    EXPECT_TRUE(a->holdsDuty("commit-statuses"));
    EXPECT_TRUE(a->holdsDuty("commit-statuses")) << "held, asked again";
    EXPECT_FALSE(b->holdsDuty("commit-statuses"));
    EXPECT_TRUE(b->holdsDuty("history")) << "each duty on its own";
    a.reset();  // its connection ends, as when its node dies
    // The server lets go of a session's locks as it ends it, just after the client left.
    EXPECT_TRUE(testing::eventually([&] { return b->holdsDuty("commit-statuses"); }));
}

// SQLite's own checkpoint would copy nothing before the log holds 1,000
// pages, and then in the committing thread; the store's starts at 500, on its own.
TEST(SqliteStoreTest, CopiesTheLogIntoTheDatabaseOnAThreadOfItsOwn) {
    testing::TempDir dir_;
    testing::TestClock clock_;
    Store store_(dir_.path() + "/slipway.db", clock_);
    auto delivery = [](const std::string& id) {
        Delivery d;
        d.id = id;
        d.event = "push";
        d.outcome = DeliveryOutcome::Ignored;
        return d;
    };
    const std::string path = dir_.path() + "/slipway.db";
    const auto logPages = [&] { return (Poco::File(path + "-wal").getSize() - 32) / (4096 + 24); };
    const Poco::File::FileSize before = Poco::File(path).getSize();
    Delivery d = delivery("");
    d.detail.assign(3500, 'x');  // a page of its own (each commit adds ~3 pages to the log)
    for (int i = 0; logPages() < 700; ++i) {
        d.id = "big-" + std::to_string(i);
        recordDelivery(store_, d, {});
    }
    EXPECT_TRUE(testing::eventually([&] { return Poco::File(path).getSize() >= before + 100 * 4096; }))
        << "the log's pages were copied into the database";
}

}  // namespace
}  // namespace slipway
