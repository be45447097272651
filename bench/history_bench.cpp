// Measures GET /api/builds against a store of many builds: fills a fresh
// slipway.db through the real schema, starts slipwayd on it, and times each
// filter over a keep-alive connection. Prints a Markdown table of p50/p99.
//
// usage: slipway_history_bench SLIPWAYD [ROWS] [REQUESTS_PER_QUERY]

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Pipe.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "storage/clock.h"
#include "storage/database.h"

namespace {

constexpr int kRepos = 20;
constexpr int kServices = 50;
constexpr int kBuildsPerJob = 4;

std::string hexSha(std::mt19937_64& random) {
    static const char* digits = "0123456789abcdef";
    std::string sha(40, '0');
    for (char& c : sha) c = digits[random() % 16];
    return sha;
}

// Fills the database the way slipwayd would have after `rows` builds.
void fill(const std::string& path, long rows) {
    SQLite::Database db = slipway::openDatabase(path);
    db.exec("PRAGMA synchronous = OFF");  // a bulk load for a benchmark, not a delivery
    SQLite::Transaction tx(db);
    SQLite::Statement delivered(db,
                                "INSERT INTO deliveries (id, event, action, repo, outcome, received_at) "
                                "VALUES (?, 'pull_request', 'closed', ?, 'queued', ?)");
    SQLite::Statement job(db,
                          "INSERT INTO jobs (id, delivery_id, repo, sha, state, queued_at, started_at, finished_at) "
                          "VALUES (?, ?, ?, ?, 'succeeded', ?, ?, ?)");
    SQLite::Statement build(db,
                            "INSERT INTO builds (job_id, delivery_id, repo, sha, service, version, image, state, "
                            "digest, error, queued_at, started_at, finished_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    std::mt19937_64 random(7);
    const Poco::Timestamp start = Poco::Timestamp::fromEpochTime(1735689600);  // 2025-01-01
    std::string sha, repo, delivery, at;
    for (long i = 0; i < rows; ++i) {
        const long jobId = i / kBuildsPerJob + 1;
        if (i % kBuildsPerJob == 0) {
            sha = hexSha(random);
            repo = "repo" + std::to_string(random() % kRepos);
            delivery = "delivery-" + std::to_string(jobId);
            at = slipway::formatRfc3339(start + static_cast<Poco::Timestamp::TimeDiff>(jobId) * 30 * 1000000);
            delivered.reset();
            delivered.bind(1, delivery);
            delivered.bind(2, repo);
            delivered.bind(3, at);
            delivered.exec();
            job.reset();
            job.bind(1, static_cast<std::int64_t>(jobId));
            job.bind(2, delivery);
            job.bind(3, repo);
            job.bind(4, sha);
            job.bind(5, at);
            job.bind(6, at);
            job.bind(7, at);
            job.exec();
        }
        // Distinct services within a job, as images.json would list them.
        const std::string service = "svc" + std::to_string((jobId * 7 + i % kBuildsPerJob) % kServices);
        const unsigned roll = random() % 100;
        const char* state = roll < 90 ? "succeeded" : roll < 99 ? "failed" : "queued";
        build.reset();
        build.bind(1, static_cast<std::int64_t>(jobId));
        build.bind(2, delivery);
        build.bind(3, repo);
        build.bind(4, sha);
        build.bind(5, service);
        build.bind(6, "1.0." + std::to_string(i % 1000));
        build.bind(7, "localhost:5443/" + service + ":1.0");
        build.bind(8, state);
        if (std::string(state) == "succeeded") {
            build.bind(9, "sha256:" + hexSha(random) + hexSha(random).substr(0, 24));
        } else {
            build.bind(9);
        }
        if (std::string(state) == "failed") {
            build.bind(10, "docker build of localhost:5443/" + service + ": docker exited with status 1");
        } else {
            build.bind(10);
        }
        build.bind(11, at);
        build.bind(12, at);
        build.bind(13, at);
        build.exec();
    }
    tx.commit();
    db.exec("ANALYZE");
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: slipway_history_bench SLIPWAYD [ROWS] [REQUESTS_PER_QUERY]\n";
        return 2;
    }
    const std::string slipwayd = argv[1];
    const long rows = argc > 2 ? std::stol(argv[2]) : 1000000;
    const int requests = argc > 3 ? std::stoi(argv[3]) : 2000;

    Poco::TemporaryFile dir;
    Poco::File(dir.path() + "/state").createDirectories();
    const auto fillStart = std::chrono::steady_clock::now();
    fill(dir.path() + "/state/slipway.db", rows);
    const double fillSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fillStart).count();

    const unsigned short port = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)).address().port();
    std::ofstream(dir.path() + "/secret") << "bench-secret\n";
    std::ofstream ini(dir.path() + "/slipway.ini");
    ini << "[server]\nlisten = 127.0.0.1:" << port << "\n[webhook]\nsecret_file = " << dir.path()
        << "/secret\n[registry]\nhost = localhost:5443\n[storage]\nstate_dir = " << dir.path() << "/state\n";
    for (int r = 0; r < kRepos; ++r) {
        ini << "[repo.repo" << r << "]\nname = bench/repo" << r << "\nurl = file:///nonexistent/repo" << r << "\n";
    }
    ini.close();
    Poco::Pipe daemonLog;  // a few lines at start and stop; kept off the table
    Poco::ProcessHandle daemon =
        Poco::Process::launch(slipwayd, {"--config", dir.path() + "/slipway.ini"}, nullptr, nullptr, &daemonLog);

    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setKeepAlive(true);
    auto get = [&](const std::string& uri, std::size_t* count) {
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri, Poco::Net::HTTPMessage::HTTP_1_1);
        request.setKeepAlive(true);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        std::string body;
        Poco::StreamCopier::copyToString(in, body);
        if (response.getStatus() != 200) throw std::runtime_error(uri + " answered " + body);
        if (count) {
            *count = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>()->getArray("builds")->size();
        }
    };
    for (int i = 0; i < 100; ++i) {
        try {
            get("/api/builds?limit=1", nullptr);
            break;
        } catch (const std::exception&) {
            session.reset();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

    const std::string middle = std::to_string(rows / 2);
    const std::vector<std::pair<std::string, std::string>> queries = {
        {"newest 50", "/api/builds?limit=50"},
        {"repo", "/api/builds?repo=repo7&limit=50"},
        {"service", "/api/builds?service=svc3&limit=50"},
        {"state=failed", "/api/builds?state=failed&limit=50"},
        {"state=queued", "/api/builds?state=queued&limit=50"},
        {"sha prefix", "/api/builds?sha=abc&limit=50"},
        {"since/until (one day)", "/api/builds?since=2025-01-02T00:00:00Z&until=2025-01-03T00:00:00Z&limit=50"},
        {"repo + state", "/api/builds?repo=repo3&state=failed&limit=50"},
        {"page deep (before=middle)", "/api/builds?before=" + middle + "&limit=50"},
        {"repo + page deep", "/api/builds?repo=repo11&before=" + middle + "&limit=50"},
    };
    std::cout << "GET /api/builds against " << rows << " builds (store filled in " << std::fixed << std::setprecision(1)
              << fillSeconds << " s); " << requests << " requests per query over one keep-alive connection.\n\n";
    std::cout << "| query | rows | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|\n";
    bool ok = true;
    for (const auto& [name, uri] : queries) {
        std::size_t count = 0;
        for (int i = 0; i < 50; ++i) get(uri, &count);  // warm the page cache
        std::vector<double> ms;
        for (int i = 0; i < requests; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            get(uri, nullptr);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        const double p99 = percentile(ms, 0.99);
        ok = ok && p99 < 5.0;
        std::cout << "| " << name << " | " << count << " | " << std::setprecision(2) << percentile(ms, 0.5) << " | "
                  << p99 << " | " << *std::max_element(ms.begin(), ms.end()) << " |\n";
    }
    std::cout << "\nTarget: p99 under 5 ms for a 50-row page: " << (ok ? "met" : "MISSED") << "\n";
    Poco::Process::requestTermination(daemon.id());
    daemon.wait();
    Poco::File(dir.path()).remove(true);
    return ok ? 0 : 1;
}
