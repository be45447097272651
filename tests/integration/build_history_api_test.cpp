#include <set>
#include <sstream>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "tests/integration/command.h"
#include "tests/integration/openapi_contract.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kToken = "history-api-token";

std::vector<std::int64_t> idsOf(const Array::Ptr& builds) {
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < builds->size(); ++i) {
        ids.push_back(builds->getObject(static_cast<unsigned>(i))->getValue<std::int64_t>("id"));
    }
    return ids;
}

std::string encoded(const std::string& value) {
    std::string out;
    Poco::URI::encode(value, "!#$&'()*+,/:;=?@[]% \"", out);
    return out;
}

// One daemon with an API token and a history made of: a merged PR of a commit
// with a good and a broken service, then two more commits queued by hand.
class BuildHistoryApi : public PipelineTest {
protected:
    void SetUp() override {
        PipelineTest::SetUp();
        // Names of each test's own: the registry is shared, and a service
        // another test published would be reused, not built.
        static int tests = 0;
        const std::string n = std::to_string(++tests);
        good_ = unique("hist-good-" + n);
        broken_ = unique("hist-broken-" + n);
        const std::string images = imagesJson({{good_, "1"}, {broken_, "1"}});
        first_ = git_->commit(files({service(good_), service(broken_, "false"), {{"images.json", images}}}));
        // Each commit changes the good service and bumps its version, as a release must.
        second_ = git_->commit(
            {{good_ + "/payload.txt", "second\n"}, {"images.json", imagesJson({{good_, "2"}, {broken_, "1"}})}});
        third_ = git_->commit(
            {{good_ + "/payload.txt", "third\n"}, {"images.json", imagesJson({{good_, "3"}, {broken_, "1"}})}});

        DaemonOptions options = defaultOptions();
        options.apiToken = kToken;
        startDaemon(options);

        const HttpAnswer merged = daemon_->sendWebhook("pull_request", "hist-" + GetParam(),
                                                       pullRequestPayload(kRepoName, "closed", true, first_));
        ASSERT_EQ(merged.status, 202) << merged.body;
        daemon_->waitForJob(merged.json()->getArray("jobs")->getElement<std::int64_t>(0));
        for (const std::string& sha : {second_, third_}) {
            // By alias and by GitHub full name.
            const std::string repo = sha == second_ ? "mono" : kRepoName;
            const HttpAnswer queued = daemon_->post("/api/builds", R"({"repo": ")" + repo + R"(", "sha": ")" + sha + R"("})");
            ASSERT_EQ(queued.status, 202) << queued.body;
            daemon_->waitForJob(queued.json()->getValue<std::int64_t>("job"));
        }
    }

    Array::Ptr builds(const std::string& query) {
        const HttpAnswer answer = daemon_->get("/api/builds" + query);
        EXPECT_EQ(answer.status, 200) << query << ": " << answer.body;
        return answer.json()->getArray("builds");
    }

    std::string good_, broken_, first_, second_, third_;
};

TEST_P(BuildHistoryApi, FiltersAndPagesNewestFirst) {
    const std::vector<std::int64_t> all = idsOf(builds(""));
    ASSERT_EQ(all.size(), 6u);  // two services at each of three commits
    EXPECT_TRUE(std::is_sorted(all.rbegin(), all.rend()));

    // Pages of two, following `next`, give every build once, in order.
    std::vector<std::int64_t> paged;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        const Object::Ptr body = daemon_->get("/api/builds?limit=2" + cursor).json();
        for (std::int64_t id : idsOf(body->getArray("builds"))) paged.push_back(id);
        if (body->isNull("next")) break;
        cursor = "&before=" + std::to_string(body->getValue<std::int64_t>("next"));
    }
    EXPECT_EQ(paged, all);

    EXPECT_EQ(builds("?repo=mono")->size(), 6u);
    EXPECT_EQ(builds("?repo=" + encoded(kRepoName))->size(), 6u);
    EXPECT_EQ(builds("?service=" + good_)->size(), 3u);
    EXPECT_EQ(builds("?state=failed")->size(), 3u);
    EXPECT_EQ(builds("?state=succeeded&service=" + good_)->size(), 3u);
    EXPECT_EQ(builds("?state=failed&service=" + good_)->size(), 0u);
    EXPECT_EQ(builds("?sha=" + first_.substr(0, 7))->size(), 2u);
    EXPECT_EQ(builds("?sha=" + third_)->size(), 2u);
    EXPECT_EQ(builds("?sha=" + Poco::toUpper(second_.substr(0, 10)))->size(), 2u);
    EXPECT_EQ(builds("?since=2000-01-01T00:00:00Z")->size(), 6u);
    EXPECT_EQ(builds("?since=2999-01-01T00:00:00Z")->size(), 0u);
    EXPECT_EQ(builds("?until=2000-01-01T00:00:00Z")->size(), 0u);
    EXPECT_EQ(builds("?until=2999-01-01T00:00:00%2B02:00&limit=1")->size(), 1u);

    const Object::Ptr one = daemon_->get("/api/builds/" + std::to_string(all.back())).json();
    EXPECT_EQ(one->getValue<std::string>("delivery"), "hist-" + GetParam());
    EXPECT_EQ(one->getValue<std::string>("sha"), first_);
    for (const char* key : {"queued_at", "started_at", "finished_at", "attempt", "image", "job"}) {
        EXPECT_TRUE(one->has(key)) << key;
    }
}

TEST_P(BuildHistoryApi, HostileQueryValuesAreRefusedBeforeSql) {
    for (const std::string& query : std::vector<std::string>{
             "?state=exploded", "?state=" + encoded("failed' OR '1'='1"), "?sha=" + encoded("'; DROP TABLE builds;--"),
          "?sha=xyz", "?sha=" + std::string(41, 'a'), "?limit=0", "?limit=100000", "?limit=99999999999999999999999",
          "?limit=" + encoded("1;"), "?before=-1", "?before=1e9", "?service=" + encoded("a'b"),
          "?service=" + encoded("../etc"), "?repo=" + encoded("x' OR 1=1 --"), "?since=yesterday",
          "?until=" + encoded("2026-13-45T99:99:99Z"), "?sort=id", "?service=" + std::string(300, 'a')}) {
        const HttpAnswer answer = daemon_->get("/api/builds" + query);
        EXPECT_EQ(answer.status, 400) << query << ": " << answer.body;
        const Object::Ptr body = answer.json();
        EXPECT_TRUE(body->has("error") && body->has("detail")) << answer.body;
        EXPECT_EQ(Poco::toLower(answer.body).find("sqlite"), std::string::npos) << answer.body;
    }
    EXPECT_EQ(daemon_->get("/api/builds/99999999").status, 404);
    EXPECT_EQ(daemon_->get("/api/builds/99999999999999999999").status, 404);
    EXPECT_EQ(daemon_->get("/api/builds?limit=200").status, 200);
    EXPECT_EQ(builds("")->size(), 6u);  // nothing was dropped
}

TEST_P(BuildHistoryApi, QueueingByHandAndRetryingSayWhatIsWrong) {
    EXPECT_EQ(daemon_->post("/api/builds", R"({"repo": "nope", "sha": ")" + first_ + R"("})").status, 404);
    EXPECT_EQ(daemon_->post("/api/builds", R"({"repo": "mono", "sha": "abc"})").status, 400);
    EXPECT_EQ(daemon_->post("/api/builds", R"({"repo": "mono"})").status, 400);
    EXPECT_EQ(daemon_->post("/api/builds", R"([1, 2])").status, 400);
    EXPECT_EQ(daemon_->post("/api/builds", "not json").status, 400);
    EXPECT_NE(daemon_->post("/api/builds", "not json").body.find("not valid JSON"), std::string::npos);
    // A field it would ignore: every service would be built, not the one named.
    const HttpAnswer extra =
        daemon_->post("/api/builds", R"({"repo": "mono", "sha": ")" + first_ + R"(", "service": "api"})");
    EXPECT_EQ(extra.status, 400);
    EXPECT_NE(extra.body.find(R"(unknown field \"service\")"), std::string::npos) << extra.body;
    for (const std::string path : {"/api/builds/1?verbose=1", "/api/jobs/1?verbose=1"}) {
        const HttpAnswer query = daemon_->get(path);
        EXPECT_EQ(query.status, 400) << path;
        EXPECT_NE(query.body.find("verbose"), std::string::npos) << query.body;
    }
    EXPECT_EQ(daemon_->post("/api/builds/1/retry?now=1", "").status, 400);
    // A method a path does not take: 405, naming every one it does.
    const std::map<std::string, std::string> auth = {{"Authorization", std::string("Bearer ") + kToken}};
    HttpAnswer wrong = httpRequest("PUT", daemon_->url("/api/builds"), auth, "{}");
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.headers["Allow"], "GET, POST");
    EXPECT_EQ(Poco::toLower(wrong.headers["Connection"]), "close");  // its body was not read
    wrong = httpRequest("DELETE", daemon_->url("/api/builds/1/retry"), auth);
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.headers["Allow"], "POST");

    const Array::Ptr failed = builds("?state=failed&limit=1");
    ASSERT_EQ(failed->size(), 1u);
    const std::int64_t failedId = failed->getObject(0)->getValue<std::int64_t>("id");
    const Array::Ptr succeeded = builds("?state=succeeded&limit=1");
    const std::int64_t succeededId = succeeded->getObject(0)->getValue<std::int64_t>("id");
    EXPECT_EQ(daemon_->post("/api/builds/" + std::to_string(succeededId) + "/retry", "").status, 409);
    EXPECT_EQ(daemon_->post("/api/builds/424242/retry", "").status, 404);

    const HttpAnswer retried = daemon_->post("/api/builds/" + std::to_string(failedId) + "/retry", "");
    ASSERT_EQ(retried.status, 202) << retried.body;
    const Object::Ptr job = daemon_->waitForJob(retried.json()->getValue<std::int64_t>("job"));
    const Array::Ptr rebuilt = job->getArray("builds");
    ASSERT_EQ(rebuilt->size(), 1u);  // only the failed service, not its neighbour
    EXPECT_EQ(rebuilt->getObject(0)->getValue<std::string>("service"), broken_);
    EXPECT_EQ(rebuilt->getObject(0)->getValue<int>("attempt"), 2);
    EXPECT_EQ(rebuilt->getObject(0)->getValue<std::string>("state"), "failed");  // the Dockerfile is still broken
}

TEST_P(BuildHistoryApi, TheApiNeedsTheTokenAndHealthAndMetricsRevealNoSecret) {
    for (const std::string& auth : {std::string(), std::string("Bearer wrong"), std::string("Bearer ") + kToken + "x",
                                    std::string("Basic ") + kToken}) {
        std::map<std::string, std::string> headers;
        if (!auth.empty()) headers["Authorization"] = auth;
        for (const char* path : {"/api/builds", "/api/deliveries", "/api/builds/1", "/api/jobs/1"}) {
            EXPECT_EQ(httpRequest("GET", daemon_->url(path), headers).status, 401) << path << " with " << auth;
        }
        EXPECT_EQ(httpRequest("POST", daemon_->url("/api/builds"), headers, "{}").status, 401);
    }
    const HttpAnswer health = httpRequest("GET", daemon_->url("/healthz"));
    EXPECT_EQ(health.status, 200);
    const HttpAnswer ready = httpRequest("GET", daemon_->url("/readyz"));
    EXPECT_EQ(ready.status, 200) << ready.body;
    for (const char* check : {"database", "builder", "registry"}) {
        EXPECT_EQ(ready.json()->getObject("checks")->getValue<std::string>(check), "ok") << ready.body;
    }
    const HttpAnswer metrics = httpRequest("GET", daemon_->url("/metrics"));
    EXPECT_EQ(metrics.status, 200);
    for (const std::string& secret : {std::string(kToken), std::string(SlipwayProcess::kSecret)}) {
        EXPECT_EQ(metrics.body.find(secret), std::string::npos);
        EXPECT_EQ(ready.body.find(secret), std::string::npos);
    }
    EXPECT_NE(metrics.body.find("slipway_builds_total{state=\"succeeded\"} 3"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("slipway_builds_total{state=\"failed\"} 3"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("slipway_webhooks_total{event=\"pull_request\",outcome=\"queued\"} 1"),
              std::string::npos);
    EXPECT_NE(metrics.body.find("slipway_build_duration_seconds_count 6"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("slipway_queue_depth 0"), std::string::npos);

    // promtool (Debian's prometheus) is the judge of the format.
    std::string said;
    EXPECT_EQ(runWithInput(SLIPWAY_PROMTOOL, {"check", "metrics"}, metrics.body, said), 0) << said;
}

TEST_P(BuildHistoryApi, AFollowedLogStreamsUntilItsBuildEnds) {
    const std::string slow = unique("hist-slow");
    const std::string sha = git_->commit(files(
        {service(slow, "echo started-now && sleep 4 && echo finished-now"),
         {{"images.json", R"([{"service_name": ")" + slow + R"(", "type": "Docker", "version": "1"}])"}}}));
    const HttpAnswer queued = daemon_->post("/api/builds", R"({"repo": "mono", "sha": ")" + sha + R"("})");
    ASSERT_EQ(queued.status, 202) << queued.body;
    const std::int64_t jobId = queued.json()->getValue<std::int64_t>("job");

    std::int64_t buildId = 0;
    for (int i = 0; i < 100 && buildId == 0; ++i) {
        const Array::Ptr jobBuilds = daemon_->get("/api/jobs/" + std::to_string(jobId)).json()->getArray("builds");
        if (jobBuilds->size() == 1) buildId = jobBuilds->getObject(0)->getValue<std::int64_t>("id");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_NE(buildId, 0);
    const HttpAnswer log = daemon_->get("/api/builds/" + std::to_string(buildId) + "/log?follow=1");
    EXPECT_EQ(log.status, 200);
    EXPECT_EQ(log.headers.count("Transfer-Encoding") ? log.headers.at("Transfer-Encoding") : "", "chunked");
    EXPECT_NE(log.body.find("started-now"), std::string::npos) << log.body;
    EXPECT_NE(log.body.find("finished-now"), std::string::npos) << log.body;
    // The stream ended because the build did.
    const std::string state = daemon_->get("/api/builds/" + std::to_string(buildId)).json()->getValue<std::string>("state");
    EXPECT_TRUE(state == "succeeded" || state == "failed") << state;
    EXPECT_EQ(daemon_->get("/api/builds/" + std::to_string(buildId) + "/log?follow=2").status, 400);
}

TEST_P(BuildHistoryApi, EveryAnswerMatchesTheOpenApiDescription) {
    OpenApiContract contract(SLIPWAY_OPENAPI);
    std::string problems;
    auto expect = [&](const std::string& method, const std::string& path, const HttpAnswer& answer, int status) {
        EXPECT_EQ(answer.status, status) << method << " " << path << ": " << answer.body;
        problems += contract.check(method, path, answer);
    };
    const std::map<std::string, std::string> noToken;
    auto hook = [&](const std::string& path, const std::string& delivery, const std::string& body,
                    const std::string& signature = "") {
        return daemon_->sendWebhook("pull_request", delivery, body, path, signature);
    };
    const std::string merge = pullRequestPayload(kRepoName, "closed", true, third_);
    expect("POST", "/hooks/github", hook("/hooks/github", "contract-1", merge), 202);
    expect("POST", "/hooks/github", hook("/hooks/github", "contract-1", merge), 200);
    expect("POST", "/hooks/github", hook("/hooks/github", "contract-2", "{"), 400);
    expect("POST", "/hooks/github", hook("/hooks/github", "contract-3", merge, "sha256=00"), 401);
    expect("POST", "/hooks/github", hook("/hooks/github", "contract-4", pullRequestPayload("x/y", "closed", true, third_)), 404);
    expect("POST", "/ciserver/updates", hook("/ciserver/updates", "contract-1", merge), 200);
    expect("POST", "/ciserver/updates", hook("/ciserver/updates", "contract-5", merge, "sha256=00"), 401);

    expect("GET", "/api/builds", daemon_->get("/api/builds?limit=2"), 200);
    expect("GET", "/api/builds", daemon_->get("/api/builds?state=nope"), 400);
    expect("GET", "/api/builds", httpRequest("GET", daemon_->url("/api/builds"), noToken), 401);
    const std::int64_t newest = builds("?limit=1")->getObject(0)->getValue<std::int64_t>("id");
    const std::int64_t failed = builds("?state=failed&limit=1")->getObject(0)->getValue<std::int64_t>("id");
    const std::int64_t succeeded = builds("?state=succeeded&limit=1")->getObject(0)->getValue<std::int64_t>("id");
    expect("POST", "/api/builds", daemon_->post("/api/builds", R"({"repo": "mono", "sha": ")" + second_ + R"("})"), 202);
    expect("POST", "/api/builds", daemon_->post("/api/builds", R"({"repo": "mono", "sha": ")" + second_ + R"("})"), 200);
    expect("POST", "/api/builds", daemon_->post("/api/builds", R"({"repo": "mono"})"), 400);
    expect("POST", "/api/builds", daemon_->post("/api/builds", R"({"repo": "none", "sha": ")" + second_ + R"("})"), 404);
    expect("POST", "/api/builds", httpRequest("POST", daemon_->url("/api/builds"), noToken, "{}"), 401);
    expect("GET", "/api/builds/{id}", daemon_->get("/api/builds/" + std::to_string(newest)), 200);
    expect("GET", "/api/builds/{id}", daemon_->get("/api/builds/999999"), 404);
    expect("GET", "/api/builds/{id}/log", daemon_->get("/api/builds/" + std::to_string(newest) + "/log"), 200);
    expect("GET", "/api/builds/{id}/log", daemon_->get("/api/builds/" + std::to_string(newest) + "/log?follow=x"), 400);
    expect("GET", "/api/builds/{id}/log", daemon_->get("/api/builds/999999/log"), 404);
    expect("POST", "/api/builds/{id}/retry", daemon_->post("/api/builds/" + std::to_string(succeeded) + "/retry", ""), 409);
    expect("POST", "/api/builds/{id}/retry", daemon_->post("/api/builds/999999/retry", ""), 404);
    const HttpAnswer retried = daemon_->post("/api/builds/" + std::to_string(failed) + "/retry", "");
    EXPECT_TRUE(retried.status == 202 || retried.status == 200) << retried.body;
    problems += contract.check("POST", "/api/builds/{id}/retry", retried);
    const std::int64_t job = retried.json()->getValue<std::int64_t>("job");
    daemon_->waitForJob(job);
    expect("GET", "/api/jobs/{id}", daemon_->get("/api/jobs/" + std::to_string(job)), 200);
    expect("GET", "/api/jobs/{id}", daemon_->get("/api/jobs/999999"), 404);
    expect("GET", "/api/deliveries", daemon_->get("/api/deliveries"), 200);
    expect("GET", "/api/deliveries", daemon_->get("/api/deliveries?limit=-3"), 400);
    expect("GET", "/healthz", httpRequest("GET", daemon_->url("/healthz"), noToken), 200);
    expect("GET", "/readyz", httpRequest("GET", daemon_->url("/readyz"), noToken), 200);
    expect("GET", "/metrics", httpRequest("GET", daemon_->url("/metrics"), noToken), 200);

    EXPECT_EQ(problems, "");
    EXPECT_EQ(contract.unchecked(), std::vector<std::string>{}) << "operations the test did not exercise";
}

INSTANTIATE_TEST_SUITE_P(Backends, BuildHistoryApi, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
