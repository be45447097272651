#include "daemon/http/front_door.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "tests/support/eventually.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using slipway::testing::eventually;

// A client on a raw socket, so that it can send what no HTTP client would.
class RawClient {
public:
    explicit RawClient(const Poco::Net::SocketAddress& server) : socket_(server) {
        socket_.setReceiveTimeout(Poco::Timespan(10, 0));
    }

    void send(const std::string& bytes) { socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size())); }

    // The next answer, head and body (by its Content-Length), or what came
    // before the connection closed.
    std::string answer() {
        std::size_t end;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!receive()) return take(buffer_.size());
        }
        std::size_t length = 0;
        const std::size_t at = buffer_.find("Content-Length: ");
        if (at != std::string::npos && at < end) length = std::stoul(buffer_.substr(at + 16));
        while (buffer_.size() < end + 4 + length) {
            if (!receive()) break;
        }
        return take(std::min(buffer_.size(), end + 4 + length));
    }

    // Whether the server closes the connection (within the receive timeout),
    // after anything it still sends.
    bool closedByServer() {
        try {
            while (receive()) {
            }
            return true;
        } catch (const Poco::TimeoutException&) {
            return false;
        }
    }

    void close() { socket_.close(); }

private:
    bool receive() {
        char chunk[4096];
        int got = 0;
        try {
            got = socket_.receiveBytes(chunk, sizeof chunk);
        } catch (const Poco::Net::ConnectionResetException&) {
            return false;
        }
        if (got <= 0) return false;
        buffer_.append(chunk, static_cast<std::size_t>(got));
        return true;
    }

    std::string take(std::size_t size) {
        std::string taken = buffer_.substr(0, size);
        buffer_.erase(0, size);
        return taken;
    }

    Poco::Net::StreamSocket socket_;
    std::string buffer_;
};

std::string get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

std::string post(const std::string& path, const std::string& body) {
    return "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
}

class FrontDoorTest : public ::testing::Test {
protected:
    FrontDoorTest() {
        settings_.headerTimeout = 300ms;
        settings_.bodyTimeout = 300ms;
        settings_.idleTimeout = 500ms;
        settings_.workers = 2;
        settings_.bodyLimit = [](const std::string&, const std::string&) { return std::size_t{4u << 20}; };
    }

    ~FrontDoorTest() override {
        {
            // A test that failed with answers still held (or about to be):
            // stop() would wait for them.
            std::lock_guard<std::mutex> lock(laterMutex_);
            tearingDown_ = true;
            later_.clear();
        }
        released_ = true;
        if (door_) door_->stop();
    }

    // Binds first, so that the test knows the port before the door starts.
    void start() {
        Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0), 1024);
        address_ = Poco::Net::SocketAddress("127.0.0.1", listener.address().port());
        door_ = std::make_unique<FrontDoor>(listener, nullptr, settings_,
                                            [this](BufferedRequest& rq, BufferedResponse& rs) { serve(rq, rs); });
        door_->start();
    }

    // /echo answers the body; /stream sends a chunk, then flushes with nothing
    // new until a flush fails, and says when it did; /hello says hello; /throw
    // throws, /throw-after-send once it has written part of its answer;
    // /later leaves its answer to answerLater(); /forgotten takes a hold on
    // its answer and lets it go without answering.
    void serve(BufferedRequest& request, BufferedResponse& response) {
        if (request.getURI() == "/later") {
            std::lock_guard<std::mutex> lock(laterMutex_);
            if (!tearingDown_) later_.push_back({&response, response.answerLater()});
            return;
        }
        if (request.getURI() == "/forgotten") {
            response.answerLater();
            return;
        }
        if (request.getURI() == "/busy") {
            busy_ = true;
            while (!released_) std::this_thread::sleep_for(1ms);
        }
        if (request.getURI() == "/throw") throw std::runtime_error("a handler's bug");
        if (request.getURI() == "/throw-after-send") {
            response.send() << "half an answer";
            throw std::runtime_error("a handler's bug");
        }
        if (request.getURI() == "/hello") {
            response.setContentLength(5);
            response.send() << "hello";
            return;
        }
        if (request.getURI() == "/stream") {
            response.setChunkedTransferEncoding(true);
            std::ostream& out = response.send();
            out << "first\n" << std::flush;
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            while (out && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(20ms);
                out.flush();
            }
            streamEnded_.set_value(!out);
            return;
        }
        const std::string body(std::istreambuf_iterator<char>(request.stream()), {});
        response.setContentLength64(static_cast<Poco::Int64>(body.size()));
        response.send() << body;
    }

    std::size_t closed(Closed reason) const { return door_->counts().closed[static_cast<int>(reason)]; }

    std::size_t answersLeftForLater() {
        std::lock_guard<std::mutex> lock(laterMutex_);
        return later_.size();
    }

    // Answers the first /later request still waiting, from the calling thread.
    void answerTheFirstLeftForLater(const std::string& text) {
        std::pair<BufferedResponse*, AnswerHold> first;
        {
            std::lock_guard<std::mutex> lock(laterMutex_);
            ASSERT_FALSE(later_.empty());
            first = later_.front();
            later_.erase(later_.begin());
        }
        first.first->setContentLength64(static_cast<Poco::Int64>(text.size()));
        first.first->send() << text;
        first.second.reset();
    }

    FrontDoorSettings settings_;
    std::unique_ptr<FrontDoor> door_;
    Poco::Net::SocketAddress address_;
    std::promise<bool> streamEnded_;
    std::mutex laterMutex_;
    std::vector<std::pair<BufferedResponse*, AnswerHold>> later_;
    bool tearingDown_ = false;
    std::atomic<bool> busy_{false};      // a /busy request holds its worker
    std::atomic<bool> released_{false};  // until this
};

TEST_F(FrontDoorTest, AnswersRequestsOnAKeptAliveConnection) {
    start();
    RawClient client(address_);
    client.send(post("/echo", "hello"));
    const std::string first = client.answer();
    EXPECT_NE(first.find("HTTP/1.1 200 OK"), std::string::npos) << first;
    EXPECT_EQ(first.substr(first.size() - 5), "hello");
    client.send(post("/echo", "again"));
    const std::string second = client.answer();
    EXPECT_EQ(second.substr(second.size() - 5), "again");
}

TEST_F(FrontDoorTest, AnswersPipelinedRequestsInOrder) {
    start();
    RawClient client(address_);
    client.send(post("/echo", "one") + post("/echo", "two") + get("/echo", "Connection: close\r\n"));
    EXPECT_EQ(client.answer().substr(0, 15), "HTTP/1.1 200 OK");
    const std::string two = client.answer();
    EXPECT_EQ(two.substr(two.size() - 3), "two");
    EXPECT_NE(client.answer().find("Connection: Close"), std::string::npos);
    EXPECT_TRUE(client.closedByServer());
}

TEST_F(FrontDoorTest, AnswersHeadWithoutTheBodyAndHttp10WithoutKeepingTheConnection) {
    start();
    RawClient head(address_);
    head.send("HEAD /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    std::string answer = head.answer();  // what came before the close
    EXPECT_EQ(answer.substr(0, 15), "HTTP/1.1 200 OK");
    EXPECT_NE(answer.find("Content-Length: 5\r\n"), std::string::npos) << answer;
    EXPECT_EQ(answer.substr(answer.size() - 4), "\r\n\r\n") << "no body";
    RawClient old(address_);
    old.send("POST /echo HTTP/1.0\r\nContent-Length: 3\r\n\r\nold");
    answer = old.answer();
    EXPECT_EQ(answer.substr(0, 15), "HTTP/1.0 200 OK") << answer;
    EXPECT_EQ(answer.substr(answer.size() - 3), "old");
    EXPECT_TRUE(old.closedByServer());
}

TEST_F(FrontDoorTest, AHandlerThatThrowsIsAnswered500AndTheConnectionClosed) {
    start();
    RawClient client(address_);
    client.send(get("/throw"));
    const std::string answer = client.answer();
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 500") << answer;
    EXPECT_EQ(answer.find("a handler's bug"), std::string::npos) << "the detail is in the log, not the answer";
    EXPECT_TRUE(client.closedByServer());
    // Nothing of that answer had gone out: it is replaced, not cut.
    RawClient after(address_);
    after.send(get("/throw-after-send"));
    EXPECT_EQ(after.answer().substr(0, 12), "HTTP/1.1 500");
}

TEST_F(FrontDoorTest, AnAnswerLeftForLaterGoesOutWhenReleasedAndHoldsNoWorkerMeanwhile) {
    settings_.workers = 1;
    start();
    RawClient waiting(address_);
    waiting.send(get("/later"));
    ASSERT_TRUE(eventually([&] { return answersLeftForLater() == 1; }));
    // The one worker answers others meanwhile.
    RawClient other(address_);
    other.send(get("/hello"));
    const std::string hello = other.answer();
    EXPECT_EQ(hello.substr(hello.size() - 5), "hello") << hello;

    std::thread([&] { answerTheFirstLeftForLater("at last"); }).join();
    const std::string answer = waiting.answer();
    EXPECT_EQ(answer.substr(0, 15), "HTTP/1.1 200 OK") << answer;
    EXPECT_EQ(answer.substr(answer.size() - 7), "at last");
    // Kept alive: the connection takes its next request.
    waiting.send(get("/hello"));
    const std::string next = waiting.answer();
    EXPECT_EQ(next.substr(next.size() - 5), "hello") << next;
}

TEST_F(FrontDoorTest, AnAnswerLeftForLaterAndNeverWrittenIs500) {
    start();
    RawClient client(address_);
    client.send(get("/forgotten"));
    const std::string answer = client.answer();
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 500") << answer;
    EXPECT_TRUE(client.closedByServer());
}

TEST_F(FrontDoorTest, TheLoopAnswersARequestThatNeverWaitsWhenItsBodyIsSmall) {
    settings_.workers = 1;
    settings_.loopBodyBytes = 8;
    settings_.answeredOnTheLoop = [](const std::string& method, const std::string& path) {
        return method == "POST" && path == "/echo";
    };
    start();
    RawClient holder(address_);
    holder.send(get("/busy"));
    ASSERT_TRUE(eventually([&] { return busy_.load(); }));
    // The one worker is held: only the loop can answer these.
    RawClient small(address_);
    small.send(post("/echo?x=1", "small"));
    const std::string answer = small.answer();
    EXPECT_EQ(answer.substr(answer.size() - 5), "small") << answer;
    small.send(post("/echo", "small again"));  // over loopBodyBytes: for the worker
    auto later = std::async(std::launch::async, [&] { return small.answer(); });
    EXPECT_EQ(later.wait_for(200ms), std::future_status::timeout) << "answered without a worker";
    released_ = true;
    const std::string text = later.get();
    EXPECT_EQ(text.substr(text.size() - 11), "small again") << text;
    EXPECT_EQ(holder.answer().substr(0, 15), "HTTP/1.1 200 OK");
}

TEST_F(FrontDoorTest, ARequestPipelinedBehindOneTheLoopLeftForLaterIsAnsweredAfterIt) {
    // As a webhook is: run on the loop, answered from another thread once its commit ends.
    settings_.answeredOnTheLoop = [](const std::string&, const std::string& path) { return path == "/later"; };
    start();
    RawClient client(address_);
    client.send(get("/later") + get("/hello"));
    ASSERT_TRUE(eventually([&] { return answersLeftForLater() == 1; }));
    std::thread([&] { answerTheFirstLeftForLater("first"); }).join();
    const std::string first = client.answer();
    EXPECT_EQ(first.substr(first.size() - 5), "first") << first;
    const std::string second = client.answer();
    EXPECT_EQ(second.substr(0, 15), "HTTP/1.1 200 OK") << second;
    EXPECT_EQ(second.substr(second.size() - 5), "hello") << second;
}

// CPU time of this process: user and system, all threads.
std::chrono::microseconds cpuTime() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto micros = [](const timeval& t) {
        return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
    };
    return micros(usage.ru_utime) + micros(usage.ru_stime);
}

TEST_F(FrontDoorTest, ARequestSentWhileTheLastIsAwayIsReadOnceThatOneIsAnswered) {
    start();
    RawClient client(address_);
    client.send(get("/later"));
    ASSERT_TRUE(eventually([&] { return answersLeftForLater() == 1; }));
    // The socket stays in the loop's poll set while its request is away:
    // what it sends now is reported once, not pass after pass.
    const auto before = cpuTime();
    client.send(get("/hello"));
    std::this_thread::sleep_for(300ms);
    // Idle, the process uses next to nothing; a loop reporting the socket
    // again and again, a core (or, on a busy machine, still far more than this).
    EXPECT_LT(cpuTime() - before, 50ms) << "the loop spun on a connection whose request is away";
    std::thread([&] { answerTheFirstLeftForLater("first"); }).join();
    const std::string first = client.answer();
    EXPECT_EQ(first.substr(first.size() - 5), "first") << first;
    const std::string second = client.answer();
    EXPECT_EQ(second.substr(second.size() - 5), "hello") << second;
}

TEST_F(FrontDoorTest, APartialRequestPipelinedBehindAnAnsweredOneCountsAsBuffered) {
    start();
    RawClient client(address_);
    const std::string partial =
        "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n" + std::string(500, 'x');
    client.send(get("/later") + partial);
    ASSERT_TRUE(eventually([&] { return answersLeftForLater() == 1; }));
    // Released here: what the exchange held stops counting before this returns.
    std::thread([&] { answerTheFirstLeftForLater("first"); }).join();
    const std::string first = client.answer();
    EXPECT_EQ(first.substr(0, 15), "HTTP/1.1 200 OK") << first;
    // Held until its body comes: under server.max_buffered_bytes like any request arriving.
    EXPECT_TRUE(eventually([&] { return door_->counts().buffered >= 500; })) << door_->counts().buffered;
    client.send(std::string(500, 'y'));
    const std::string echo = client.answer();
    EXPECT_EQ(echo.substr(echo.size() - 3), "yyy") << echo;
    EXPECT_TRUE(eventually([&] { return door_->counts().buffered == 0; }));
}

TEST_F(FrontDoorTest, AStopWaitsForAnAnswerLeftForLater) {
    start();
    RawClient client(address_);
    client.send(get("/later"));
    ASSERT_TRUE(eventually([&] { return answersLeftForLater() == 1; }));
    door_->stopAccepting();
    EXPECT_FALSE(door_->drain(50ms)) << "a request still to be answered";
    std::thread answering([&] {
        std::this_thread::sleep_for(100ms);
        answerTheFirstLeftForLater("late");
    });
    door_->stop();  // returns once the answer is out
    answering.join();
    const std::string answer = client.answer();
    EXPECT_EQ(answer.substr(answer.size() - 4), "late") << answer;
    EXPECT_TRUE(client.closedByServer());
}

TEST_F(FrontDoorTest, RefusesConflictingLengthsAndCloses) {
    start();
    RawClient client(address_);
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    const std::string answer = client.answer();
    EXPECT_EQ(answer.substr(0, 24), "HTTP/1.1 400 Bad Request") << answer;
    EXPECT_NE(answer.find("two Content-Length values that differ"), std::string::npos);
    EXPECT_TRUE(client.closedByServer());
    EXPECT_EQ(closed(Closed::Framing), 1u);
}

TEST_F(FrontDoorTest, RefusesALengthOverTheLimitBeforeAnyBody) {
    settings_.bodyLimit = [](const std::string&, const std::string&) { return std::size_t{1000}; };
    start();
    RawClient client(address_);
    // No byte of the body is sent: the answer cannot have waited for it.
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n");
    EXPECT_EQ(client.answer().substr(0, 12), "HTTP/1.1 413");
    EXPECT_TRUE(client.closedByServer());
}

TEST_F(FrontDoorTest, SendsContinueBeforeTheBody) {
    start();
    RawClient client(address_);
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(client.answer(), "HTTP/1.1 100 Continue\r\n\r\n");
    client.send("hello");
    const std::string answer = client.answer();
    EXPECT_EQ(answer.substr(answer.size() - 5), "hello");
}

TEST_F(FrontDoorTest, ClosesAHeaderStillTricklingAtItsDeadline) {
    start();
    // Before the connection: its deadline runs from the accept.
    const auto started = std::chrono::steady_clock::now();
    RawClient client(address_);
    client.send("GET /echo HTTP/1.1\r\n");
    std::thread trickle([&] {
        // A header line every 50 ms, each resetting a per-byte timeout, never the deadline.
        for (int i = 0; i < 40; ++i) {
            std::this_thread::sleep_for(50ms);
            try {
                client.send("X-Trickle-" + std::to_string(i) + ": 1\r\n");
            } catch (const Poco::Exception&) {
                return;
            }
        }
    });
    EXPECT_TRUE(client.closedByServer());
    const auto waited = std::chrono::steady_clock::now() - started;
    trickle.join();
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 1500ms);
    EXPECT_EQ(closed(Closed::HeaderTimeout), 1u);
}

TEST_F(FrontDoorTest, ClosesABodyCutShortAtItsDeadline) {
    start();
    RawClient client(address_);
    client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf.");
    EXPECT_EQ(client.answer().substr(0, 12), "HTTP/1.1 408");
    EXPECT_TRUE(client.closedByServer());
    EXPECT_EQ(closed(Closed::BodyTimeout), 1u);
}

TEST_F(FrontDoorTest, SaysABodyWasCutShortWhenTheClientClosesItsSide) {
    start();
    Poco::Net::StreamSocket socket(address_);
    const std::string request = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf";
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    socket.shutdownSend();
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    std::string answer;
    char chunk[1024];
    for (int got; (got = socket.receiveBytes(chunk, sizeof chunk)) > 0;) answer.append(chunk, static_cast<std::size_t>(got));
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 400") << answer;
    EXPECT_NE(answer.find("the body ended after 4 of the 10 bytes its Content-Length announced"), std::string::npos);
}

TEST_F(FrontDoorTest, ClosesAConnectionIdleBetweenRequests) {
    start();
    RawClient client(address_);
    client.send(get("/echo"));
    client.answer();
    EXPECT_TRUE(client.closedByServer());
    EXPECT_EQ(closed(Closed::Idle), 1u);
}

TEST_F(FrontDoorTest, SlowClientsHoldNoWorker) {
    settings_.workers = 1;
    settings_.headerTimeout = 10s;
    start();
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < 300; ++i) {
        slow.push_back(std::make_unique<RawClient>(address_));
        slow.back()->send("POST /echo HTTP/1.1\r\nHost: t\r\n");
    }
    RawClient client(address_);
    const auto started = std::chrono::steady_clock::now();
    client.send(post("/echo", "through"));
    const std::string answer = client.answer();
    EXPECT_EQ(answer.substr(answer.size() - 7), "through");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(FrontDoorTest, ClosesTheLongestIdleConnectionAtTheLimit) {
    settings_.maxConnections = 16;
    settings_.headerTimeout = 10s;
    start();
    RawClient oldest(address_);
    ASSERT_TRUE(eventually([&] { return door_->counts().open == 1; }));
    std::vector<std::unique_ptr<RawClient>> others;
    for (int i = 0; i < 15; ++i) {
        others.push_back(std::make_unique<RawClient>(address_));
        others.back()->send("G");
    }
    ASSERT_TRUE(eventually([&] { return door_->counts().open == 16; }));
    RawClient newest(address_);
    newest.send(get("/echo"));
    EXPECT_EQ(newest.answer().substr(0, 15), "HTTP/1.1 200 OK");
    EXPECT_TRUE(oldest.closedByServer());
    EXPECT_EQ(closed(Closed::Evicted), 1u);
}

TEST_F(FrontDoorTest, ShedsTheRequestArrivingLongestWhenBuffersAreFull) {
    settings_.maxBufferedBytes = 1u << 20;
    settings_.bodyTimeout = 10s;
    start();
    RawClient stalled(address_);
    stalled.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 900000\r\n\r\n" + std::string(700000, 's'));
    ASSERT_TRUE(eventually([&] { return door_->counts().buffered >= 700000; }));
    RawClient whole(address_);
    whole.send(post("/echo", std::string(600000, 'w')));
    const std::string answer = whole.answer();
    EXPECT_EQ(answer.substr(0, 15), "HTTP/1.1 200 OK");
    EXPECT_EQ(answer.size() - answer.find("\r\n\r\n") - 4, 600000u);
    EXPECT_TRUE(stalled.closedByServer());
    EXPECT_EQ(closed(Closed::Buffers), 1u);
}

TEST_F(FrontDoorTest, AStreamedAnswerNoticesTheClientLeftWithoutWritingAgain) {
    start();
    std::future<bool> ended = streamEnded_.get_future();
    RawClient client(address_);
    client.send(get("/stream"));
    const std::string head = client.answer();
    EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
    client.close();
    ASSERT_EQ(ended.wait_for(3s), std::future_status::ready);
    EXPECT_TRUE(ended.get());
}

TEST_F(FrontDoorTest, DrainWaitsForAConnectionWhoseRequestHasNotArrivedYet) {
    settings_.headerTimeout = 10s;
    start();
    // Accepted, nothing read yet: GitHub's delivery behind its TLS handshake, say.
    RawClient early(address_);
    ASSERT_TRUE(eventually([&] { return door_->counts().open == 1; }));
    door_->stopAccepting();
    std::future<bool> drained = std::async(std::launch::async, [this] { return door_->drain(5s); });
    EXPECT_EQ(drained.wait_for(200ms), std::future_status::timeout);
    early.send(post("/echo", "late"));
    const std::string answer = early.answer();
    EXPECT_EQ(answer.substr(answer.size() - 4), "late");
    EXPECT_TRUE(drained.get());
}

TEST_F(FrontDoorTest, DrainsRequestsBegunBeforeTheStop) {
    settings_.headerTimeout = 10s;
    start();
    RawClient begun(address_);
    begun.send("POST /echo HTTP/1.1\r\nHost: t\r\n");
    ASSERT_TRUE(eventually([&] { return door_->counts().buffered > 0; }));
    door_->stopAccepting();
    std::future<bool> drained = std::async(std::launch::async, [this] { return door_->drain(5s); });
    EXPECT_EQ(drained.wait_for(200ms), std::future_status::timeout);
    begun.send("Content-Length: 4\r\n\r\nlast");
    const std::string answer = begun.answer();
    EXPECT_EQ(answer.substr(answer.size() - 4), "last");
    EXPECT_NE(answer.find("Connection: Close"), std::string::npos);
    EXPECT_TRUE(drained.get());
}

}  // namespace
}  // namespace slipway
