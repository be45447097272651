// The front door under the attack of its issue: starts slipwayd (default
// server settings: header_timeout and request_timeout 10 s), opens 5,000
// connections trickling a header line every 2 s and 1,000 that send half a
// webhook's body, and sends a signed merged pull request every 100 ms on a
// connection of its own, with GET /healthz beside it, for SECONDS (past the
// deadlines). Prints a markdown table: delivery latency, /healthz failures,
// slipwayd's largest memory, and when the last hostile connection was closed.
//
// usage: slipway_front_door_bench SLIPWAYD RUNS SECONDS
// Exits 1 when a run misses a target: a delivery over 100 ms or not 202, a
// /healthz not 200, VmRSS at 64 MB or more, a hostile connection still open
// 2 s after the deadlines.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>

#include "daemon/github/webhook_verifier.h"
#include "tests/support/hostile_load.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using slipway::testing::HostileLoad;
using slipway::testing::memoryOf;
using slipway::testing::mergedPullRequest;

constexpr const char* kSecret = "front-door-bench-secret";
constexpr auto kDeadline = 10s;  // server.header_timeout and request_timeout, both at their default

std::uint16_t freePort() {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    return probe.address().port();
}

// Status of a request on a connection of its own; 0 when none came within 5 s.
int request(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body,
            const std::string& delivery) {
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        session.setTimeout(Poco::Timespan(5, 0));
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!body.empty()) {
            request.setContentType("application/json");
            request.setContentLength64(static_cast<Poco::Int64>(body.size()));
            request.set("X-GitHub-Event", "pull_request");
            request.set("X-GitHub-Delivery", delivery);
            request.set("X-Hub-Signature-256", slipway::signatureFor(kSecret, body));
        }
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        in.ignore(std::numeric_limits<std::streamsize>::max());
        return response.getStatus();
    } catch (const Poco::Exception&) {
        return 0;
    }
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

struct Run {
    double p50 = 0, p99 = 0, max = 0;
    int deliveries = 0, not202 = 0, healthFailures = 0;
    std::size_t vmRss = 0, rssAnon = 0, pss = 0;  // largest, KB
    double open = 0;        // s it took to open every hostile connection
    double lastClosed = -1;  // s after the last hostile connection opened; -1: not all closed
    std::size_t hostile = 0;
};

Run runOnce(const std::string& slipwayd, int seconds) {
    const std::string dir = Poco::TemporaryFile::tempName();
    Poco::File(dir).createDirectories();
    std::ofstream(dir + "/secret") << kSecret;
    const std::uint16_t port = freePort();
    std::ofstream(dir + "/slipway.ini") << "[server]\nlisten = 127.0.0.1:" << port << "\n[webhook]\nsecret_file = "
                                        << dir << "/secret\n[registry]\nhost = localhost:5999\n[storage]\nstate_dir = "
                                        << dir << "/state\n[repo.hello]\nname = Codertocat/Hello-World\nurl = file://"
                                        << dir << "/missing.git\nbranches = master\n";
    const pid_t pid = fork();
    if (pid == 0) {
        const int log = ::open((dir + "/daemon.log").c_str(), O_WRONLY | O_CREAT, 0644);
        dup2(log, 2);
        execl(slipwayd.c_str(), slipwayd.c_str(), "--config", (dir + "/slipway.ini").c_str(), nullptr);
        _exit(127);
    }
    for (int i = 0; i < 100 && request(port, "GET", "/healthz", "", "") != 200; ++i) std::this_thread::sleep_for(100ms);

    Run run;
    {
        HostileLoad load({Poco::Net::SocketAddress("127.0.0.1", port), 5000, 1000, 2000ms, 20000});
        const auto opened = Clock::now();
        load.open();
        // Each connection's deadline runs from its own accept, which is at
        // or just after its connect: the last one's from about here (opening
        // 6,000 takes up to a second).
        const auto allOpen = Clock::now();
        run.open = std::chrono::duration<double>(allOpen - opened).count();
        load.startTrickling();
        run.hostile = load.total();
        std::vector<double> latencies;
        for (int i = 0; Clock::now() < opened + std::chrono::seconds(seconds); ++i) {
            std::this_thread::sleep_until(opened + i * 100ms);
            const auto sent = Clock::now();
            const int status = request(port, "POST", "/hooks/github", mergedPullRequest(i), "bench-" + std::to_string(i));
            latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
            if (status != 202) ++run.not202;
            if (request(port, "GET", "/healthz", "", "") != 200) ++run.healthFailures;
            const auto memory = memoryOf(pid);
            run.vmRss = std::max(run.vmRss, memory.vmRssKb);
            run.rssAnon = std::max(run.rssAnon, memory.rssAnonKb);
            run.pss = std::max(run.pss, memory.pssKb);
            if (run.lastClosed < 0 && load.closedByServer() == load.total()) {
                run.lastClosed = std::chrono::duration<double>(Clock::now() - allOpen).count();
            }
        }
        while (run.lastClosed < 0 && Clock::now() < allOpen + kDeadline + 2s) {
            std::this_thread::sleep_for(50ms);
            if (load.closedByServer() == load.total()) {
                run.lastClosed = std::chrono::duration<double>(Clock::now() - allOpen).count();
            }
        }
        run.deliveries = static_cast<int>(latencies.size());
        run.p50 = percentile(latencies, 0.5);
        run.p99 = percentile(latencies, 0.99);
        run.max = *std::max_element(latencies.begin(), latencies.end());
    }
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    Poco::File(dir).remove(true);
    return run;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " SLIPWAYD RUNS SECONDS\n";
        return 2;
    }
    const int runs = std::stoi(argv[2]);
    const int seconds = std::stoi(argv[3]);
    std::vector<Run> results;
    for (int i = 0; i < runs; ++i) {
        results.push_back(runOnce(argv[1], seconds));
        std::cerr << "run " << i + 1 << ": p99 " << results.back().p99 << " ms\n";
    }
    bool met = true;
    std::cout << "| run | deliveries | not 202 | p50 ms | p99 ms | max ms | /healthz failures | largest VmRSS MB | "
                 "RssAnon MB | PSS MB | hostile connections | s to open them | all closed, s after the last opened |\n"
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (std::size_t i = 0; i < results.size(); ++i) {
        const Run& r = results[i];
        std::ostringstream row;
        row.precision(1);
        row << std::fixed << "| " << i + 1 << " | " << r.deliveries << " | " << r.not202 << " | " << r.p50 << " | "
            << r.p99 << " | " << r.max << " | " << r.healthFailures << " | " << r.vmRss / 1024.0 << " | "
            << r.rssAnon / 1024.0 << " | " << r.pss / 1024.0 << " | " << r.hostile << " | " << r.open << " | ";
        if (r.lastClosed < 0) {
            row << "not all |";
        } else {
            row << r.lastClosed << " |";
        }
        std::cout << row.str() << "\n";
        met = met && r.not202 == 0 && r.max < 100 && r.healthFailures == 0 && r.vmRss < 64 * 1024 && r.lastClosed >= 0;
    }
    std::cout << "\nTargets: every delivery answered 202 within 100 ms, /healthz answering throughout, VmRSS under "
                 "64 MB, every hostile connection closed after the deadlines (10 s, and one sweep): "
              << (met ? "met" : "MISSED") << ".\n";
    return met ? 0 : 1;
}
