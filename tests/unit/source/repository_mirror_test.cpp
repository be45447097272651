#include "daemon/source/repository_mirror.h"

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include "daemon/source/checkout.h"

#include "daemon/source/git_handles.h"
#include "tests/integration/command.h"
#include "tests/integration/git_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// The most memory this process has held, in KiB.
long peakMemoryKiB() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

TEST(RepositoryMirror, ABlobOverTheLimitIsRefusedFromItsHeaderWithoutInflatingIt) {
    GitLibrary library;
    testing::TempDir dir;
    testing::GitFixture git(dir.path() + "/repo");
    // 256 MiB of zeros: a few hundred KiB once compressed, as a hostile commit could make it.
    testing::mustRun("truncate", {"-s", "256M", dir.path() + "/repo/images.json"});
    const std::string sha = git.commit({});
    testing::mustRun("git", {"clone", "--quiet", "--bare", dir.path() + "/repo", dir.path() + "/mirror.git"});
    RepositoryMirror mirror(dir.path() + "/mirror.git", git.url(), "");

    const long before = peakMemoryKiB();
    ASSERT_LT(before, 128 * 1024) << "this process held too much already to see the blob inflated";
    try {
        mirror.readFile(sha, "images.json", 1024 * 1024);
        ADD_FAILURE() << "a 256 MiB images.json was read";
    } catch (const GitError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "images.json in commit " + sha.substr(0, 12) + " is 268435456 bytes, over the limit of 1048576");
    }
    EXPECT_LT(peakMemoryKiB() - before, 32 * 1024) << "the blob was inflated to learn its size";
}

// A Git server that stalls: it accepts connections and then holds them,
// saying nothing more than `serve` does, until it is destroyed.
class StallingServer {
public:
    // `serve` answers one request (and may send part of an answer); then the
    // connection hangs until the server is destroyed.
    using Serve = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

    explicit StallingServer(Serve serve) : serve_(std::move(serve)) {
        Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
        params->setTimeout(Poco::Timespan(60, 0));
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), Poco::Net::ServerSocket(
                                                                                  Poco::Net::SocketAddress("127.0.0.1", 0)),
                                                          params);
        server_->start();
    }
    ~StallingServer() {
        std::unique_lock<std::mutex> lock(mutex_);
        released_ = true;
        condition_.notify_all();
        // The handlers read this object: none may still be running when it goes.
        condition_.wait(lock, [this] { return serving_ == 0; });
        lock.unlock();
        server_->stopAll(true);
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/repo.git"; }

private:
    class Handler : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handler(StallingServer& owner) : owner_(owner) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
            {
                std::lock_guard<std::mutex> lock(owner_.mutex_);
                ++owner_.serving_;
            }
            owner_.serve_(request, response);
            std::unique_lock<std::mutex> lock(owner_.mutex_);
            owner_.condition_.wait_for(lock, std::chrono::seconds(60), [this] { return owner_.released_; });
            --owner_.serving_;
            owner_.condition_.notify_all();
        }

    private:
        StallingServer& owner_;
    };
    class Factory : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(StallingServer& owner) : owner_(owner) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handler(owner_);
        }

    private:
        StallingServer& owner_;
    };

    Serve serve_;
    std::mutex mutex_;
    std::condition_variable condition_;
    bool released_ = false;
    int serving_ = 0;  // handlers running
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// Runs `fetch` and says how long it took and what it threw.
struct FetchOutcome {
    std::chrono::steady_clock::duration took{};
    bool threw = false;
    bool transient = false;
    std::string message;
};
FetchOutcome timeFetch(const std::function<void()>& fetch) {
    FetchOutcome outcome;
    const auto start = std::chrono::steady_clock::now();
    try {
        fetch();
    } catch (const GitError& e) {
        outcome.threw = true;
        outcome.transient = e.transient();
        outcome.message = e.what();
    }
    outcome.took = std::chrono::steady_clock::now() - start;
    return outcome;
}

const std::string kMissing = "0123456789abcdef0123456789abcdef01234567";

TEST(RepositoryMirror, AFetchFromAServerThatSaysNothingEndsAtItsTimeoutWhileOtherRepositoriesCheckOut) {
    GitLibrary library;
    testing::TempDir dir;
    StallingServer silent([](auto&, auto&) {});  // reads the request line, answers nothing
    testing::GitFixture good(dir.path() + "/good");
    const std::string sha = good.commit({{"images.json", "[]"}});
    Checkout checkout(dir.path() + "/repos", dir.path() + "/work", std::chrono::seconds(2));
    RepoSettings stalled;
    stalled.alias = "stalled";
    stalled.url = silent.url();
    RepoSettings working;
    working.alias = "good";
    working.url = good.url();

    auto stuck = std::async(std::launch::async, [&] {
        return timeFetch([&] {
            std::string manifest;
            checkout.prepare(stalled, kMissing, "images.json", 1024, manifest);
        });
    });
    // Another repository's job does not wait for the stalled one.
    std::string manifest;
    const auto start = std::chrono::steady_clock::now();
    checkout.prepare(working, sha, "images.json", 1024, manifest);
    EXPECT_EQ(manifest, "[]");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));

    const FetchOutcome outcome = stuck.get();
    ASSERT_TRUE(outcome.threw) << "a fetch from a silent server succeeded";
    EXPECT_TRUE(outcome.transient) << outcome.message;
    EXPECT_GE(outcome.took, std::chrono::seconds(2));
    EXPECT_LT(outcome.took, std::chrono::seconds(4)) << outcome.message;
    EXPECT_NE(outcome.message.find("timed out after 2 s (builder.fetch_timeout)"), std::string::npos)
        << outcome.message;
}

TEST(RepositoryMirror, AFetchFromAServerThatStopsInTheMiddleOfThePackEndsAtItsTimeout) {
    GitLibrary library;
    testing::TempDir dir;
    testing::GitFixture git(dir.path() + "/repo");
    // Random bytes do not compress: the pack is about a megabyte.
    testing::mustRun("dd", {"if=/dev/urandom", "of=" + dir.path() + "/repo/blob", "bs=1048576", "count=1", "status=none"});
    const std::string sha = git.commit({{"images.json", "[]"}});
    const std::string repo = dir.path() + "/repo";
    // Git's smart HTTP protocol, served by git upload-pack itself, with the
    // pack cut off half way.
    StallingServer halfway([repo](Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
        std::string body;
        Poco::StreamCopier::copyToString(request.stream(), body);
        std::string output;
        if (request.getMethod() == "GET") {
            testing::runWithInput("git", {"upload-pack", "--stateless-rpc", "--advertise-refs", repo}, "", output);
            response.setContentType("application/x-git-upload-pack-advertisement");
            const std::string announce = "001e# service=git-upload-pack\n0000";
            response.setContentLength(static_cast<std::streamsize>(announce.size() + output.size()));
            response.send() << announce << output << std::flush;
            return;
        }
        testing::runWithInput("git", {"upload-pack", "--stateless-rpc", repo}, body, output);
        response.setContentType("application/x-git-upload-pack-result");
        response.setContentLength(static_cast<std::streamsize>(output.size()));
        response.send() << output.substr(0, output.size() / 2) << std::flush;
    });
    RepositoryMirror mirror(dir.path() + "/mirror.git", halfway.url(), "");
    const FetchOutcome outcome = timeFetch([&] { mirror.fetch(sha, std::chrono::seconds(2)); });
    ASSERT_TRUE(outcome.threw) << "a pack cut in half was taken whole";
    EXPECT_TRUE(outcome.transient) << outcome.message;
    EXPECT_GE(outcome.took, std::chrono::seconds(2));
    EXPECT_LT(outcome.took, std::chrono::seconds(4)) << outcome.message;
}

}  // namespace
}  // namespace slipway
