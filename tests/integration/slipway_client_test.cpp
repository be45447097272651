#include <chrono>
#include <sstream>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "backends/process_runner.h"
#include "tests/integration/command.h"
#include "tests/integration/pipeline_fixture.h"
#include "tests/support/eventually.h"

namespace slipway::testing {
namespace {

constexpr const char* kToken = "client-token";

// The `slipway` command against a real slipwayd.
class SlipwayClient : public PipelineTest {
protected:
    void SetUp() override {
        PipelineTest::SetUp();
        good_ = unique("cli-good");
        broken_ = unique("cli-broken");
        sha_ = git_->commit(files({service(good_), service(broken_, "echo about-to-fail && false"),
                                   {{"images.json", imagesJson({{good_, "1"}, {broken_, "1"}})}}}));
        DaemonOptions options = defaultOptions();
        options.apiToken = kToken;
        startDaemon(options);
        tokenFile_ = dir_.write("token", std::string(kToken) + "\n");
    }

    // Runs `slipway` with `args`; returns its exit status and keeps what it printed in `output`.
    int run(const std::vector<std::string>& args, std::string& output, const std::string& url = "") {
        std::ostringstream out;
        const ProcessResult result =
            runProcess(SLIPWAY_CLIENT_PATH, args, out, std::chrono::seconds(120),
                       {{"SLIPWAY_URL", url.empty() ? daemon_->url("") : url}, {"SLIPWAY_TOKEN_FILE", tokenFile_}});
        output = out.str();
        return result.exitCode;
    }

    std::string good_, broken_, sha_, tokenFile_;
};

TEST_P(SlipwayClient, QueuesListsFollowsAndRetriesWithScriptableExitCodes) {
    std::string output;
    ASSERT_EQ(run({"build", "mono", sha_}, output), 0) << output;
    EXPECT_EQ(output.rfind("queued job ", 0), 0u) << output;
    const std::int64_t job = std::stoll(output.substr(11));
    daemon_->waitForJob(job);

    ASSERT_EQ(run({"builds"}, output), 0) << output;
    EXPECT_EQ(output.rfind("ID  STATE", 0), 0u) << output;
    EXPECT_NE(output.find(good_), std::string::npos);
    EXPECT_NE(output.find(sha_.substr(0, 12)), std::string::npos);
    ASSERT_EQ(run({"builds", "--state", "failed", "--repo", kRepoName}, output), 0) << output;
    EXPECT_NE(output.find(broken_), std::string::npos) << output;
    EXPECT_EQ(output.find(good_), std::string::npos) << output;

    const Poco::JSON::Object::Ptr failed = daemon_->get("/api/builds?state=failed").json()->getArray("builds")->getObject(0);
    const std::string failedId = std::to_string(failed->getValue<std::int64_t>("id"));
    EXPECT_EQ(run({"log", failedId, "-f"}, output), 4) << output;  // the followed build failed
    EXPECT_NE(output.find("about-to-fail"), std::string::npos) << output;
    const std::string goodId = std::to_string(
        daemon_->get("/api/builds?state=succeeded").json()->getArray("builds")->getObject(0)->getValue<std::int64_t>("id"));
    EXPECT_EQ(run({"log", goodId, "-f"}, output), 0) << output;

    ASSERT_EQ(run({"retry", failedId}, output), 0) << output;
    EXPECT_EQ(output.rfind("queued job ", 0), 0u) << output;
    daemon_->waitForJob(std::stoll(output.substr(11)));
    EXPECT_EQ(run({"retry", goodId}, output), 1) << output;  // refused: it did not fail
    EXPECT_NE(output.find("not failed"), std::string::npos) << output;
}

TEST_P(SlipwayClient, SaysWhatIsWrongWithDistinctExitCodes) {
    std::string output;
    EXPECT_EQ(run({}, output), 2);
    EXPECT_EQ(run({"frobnicate"}, output), 2);
    EXPECT_NE(output.find("unknown command 'frobnicate'"), std::string::npos) << output;
    EXPECT_EQ(run({"log", "abc"}, output), 2);
    EXPECT_EQ(run({"build", "mono"}, output), 2);
    EXPECT_EQ(run({"builds", "--state"}, output), 2);
    EXPECT_EQ(run({"--help"}, output), 0);
    EXPECT_NE(output.find("usage: slipway"), std::string::npos);

    EXPECT_EQ(run({"builds", "--state", "exploded"}, output), 1);
    EXPECT_NE(output.find("bad parameter state"), std::string::npos) << output;
    EXPECT_EQ(run({"log", "999999"}, output), 1);
    EXPECT_EQ(run({"build", "nowhere", sha_}, output), 1);
    EXPECT_NE(output.find("repository not configured"), std::string::npos) << output;
    EXPECT_EQ(run({"--token-file", dir_.write("wrong", "nope\n"), "builds"}, output), 1);
    EXPECT_NE(output.find("unauthorized"), std::string::npos) << output;
    EXPECT_EQ(run({"builds"}, output, "http://127.0.0.1:" + std::to_string(freeLoopbackPort())), 3);
    EXPECT_NE(output.find("cannot reach slipwayd"), std::string::npos) << output;

    for (const std::string url : {"127.0.0.1:8080", "http://127.0.0.1:99999", "ftp://127.0.0.1/",
                                  "http://127.0.0.1:8080/?x", "http://127.0.0.1:8080#x", "http://me@127.0.0.1:8080"}) {
        EXPECT_EQ(run({"--url", url, "builds"}, output), 2) << url;
        EXPECT_NE(output.find("--url: expected http://HOST:PORT or https://HOST:PORT, got '" + url + "'"),
                  std::string::npos) << output;
    }
    EXPECT_EQ(run({"builds"}, output, "localhost:8080"), 2);
    EXPECT_NE(output.find("$SLIPWAY_URL: expected"), std::string::npos) << output;
    EXPECT_EQ(run({"--timeout", "0", "builds"}, output), 2);
    EXPECT_NE(output.find("--timeout: expected seconds from 1 to 3600, got '0'"), std::string::npos) << output;

    // A server that takes the connection and never answers.
    Poco::Net::ServerSocket mute(Poco::Net::SocketAddress("127.0.0.1", 0));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(run({"--timeout", "1", "builds"}, output, "http://127.0.0.1:" + std::to_string(mute.address().port())), 3);
    EXPECT_NE(output.find("did not answer within 1 s"), std::string::npos) << output;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

    // A server that answers a head, then stalls in the body.
    Poco::Net::ServerSocket stalling(Poco::Net::SocketAddress("127.0.0.1", 0));
    std::thread server([&stalling] {
        if (!stalling.poll(Poco::Timespan(20, 0), Poco::Net::Socket::SELECT_READ)) return;  // the client never came
        Poco::Net::StreamSocket connection = stalling.acceptConnection();
        char request[4096];
        connection.receiveBytes(request, sizeof request);
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
        connection.sendBytes(head.data(), static_cast<int>(head.size()));
        std::this_thread::sleep_for(std::chrono::seconds(3));
    });
    EXPECT_EQ(run({"--timeout", "1", "builds"}, output, "http://127.0.0.1:" + std::to_string(stalling.address().port())), 3);
    EXPECT_NE(output.find("sent nothing more for 1 s"), std::string::npos) << output;
    server.join();
}

// A followed build that never ran (refused for its images.json entry) has no
// log to follow, and failed: exit 4, saying why.
TEST_P(SlipwayClient, FollowingABuildThatNeverRanSaysWhyAndExits4) {
    const std::string refused = unique("cli-refused");
    const std::string sha = git_->commit(files({service(refused), {{"images.json", imagesJson({{refused, "--help"}})}}}));
    std::string output;
    ASSERT_EQ(run({"build", "mono", sha}, output), 0) << output;
    daemon_->waitForJob(std::stoll(output.substr(11)));
    const std::string id = std::to_string(daemon_->get("/api/builds?service=" + refused)
                                              .json()->getArray("builds")->getObject(0)->getValue<std::int64_t>("id"));
    EXPECT_EQ(run({"log", id, "-f"}, output), 4) << output;
    EXPECT_NE(output.find("no log: build " + id + " never ran"), std::string::npos) << output;
    EXPECT_NE(output.find("is not a Docker tag"), std::string::npos) << output;
    EXPECT_EQ(run({"log", id}, output), 1) << output;
}

// `log -f` waits for as long as the build is silent, however short --timeout.
TEST_P(SlipwayClient, FollowsABuildThroughASilenceLongerThanTheTimeout) {
    const std::string quiet = unique("cli-quiet");
    const std::string sha = git_->commit(files({service(quiet, "sleep 4 && echo woke-up"),
                                                {{"images.json", imagesJson({{quiet, "1"}})}}}));
    std::string output;
    ASSERT_EQ(run({"build", "mono", sha}, output), 0) << output;
    // Follow from inside the sleep.
    std::string id;
    const bool sleeping = eventually([&] {
        const Poco::JSON::Array::Ptr builds = daemon_->get("/api/builds?service=" + quiet).json()->getArray("builds");
        if (builds->size() != 1 || builds->getObject(0)->getValue<std::string>("state") != "running") return false;
        id = std::to_string(builds->getObject(0)->getValue<std::int64_t>("id"));
        return daemon_->get("/api/builds/" + id + "/log").body.find("sleep 4") != std::string::npos;
    });
    ASSERT_TRUE(sleeping) << "the build never got to its sleep";
    EXPECT_EQ(run({"--timeout", "1", "log", id, "-f"}, output), 0) << output;
    EXPECT_NE(output.find("woke-up"), std::string::npos) << output;
}

INSTANTIATE_TEST_SUITE_P(Backends, SlipwayClient, ::testing::Values("cli"));

}  // namespace
}  // namespace slipway::testing
