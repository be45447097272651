#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/config/settings.h"
#include "storage/store.h"

namespace slipway {

// What the /api endpoints need from the rest of the daemon.
struct ApiSettings {
    std::string token;  // empty: /api is open
    std::vector<RepoSettings> repos;
    std::function<void()> jobsQueued;                       // wakes a worker
    std::function<std::string(std::int64_t)> logPath;       // a build's log file, on this node
    // With several nodes: this node's name, and that the logs of other nodes'
    // builds are read from the store (see LogShipper).
    std::string node;
    bool sharedLogs = false;
    std::function<bool()> stopping;                          // true once slipwayd is stopping: follows end
    unsigned maxFollowers = 4;  // ?follow=1 streams at once; each holds a worker of the front door
};

// The /api endpoints: build history with filters and keyset paging, one
// build, its log (followed live with ?follow=1), jobs, deliveries, and queueing
// builds by hand or again. The router (request_router.h) checks the token and
// the method first. Query values are validated and bound; a bad one is an
// HttpError 400 that names it. Each endpoint may also throw what the store
// throws (answered 503).
class ApiHandler {
public:
    // The largest body an /api request may have (a queued build's is ~100 bytes).
    static constexpr std::size_t kMaxRequestBody = 64 * 1024;

    ApiHandler(const ApiSettings& settings, Store& store);

    void listBuilds(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
    void showBuild(std::int64_t id, Poco::Net::HTTPServerResponse& response);
    void sendLog(std::int64_t id, Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
    void queueBuild(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
    void retryBuild(std::int64_t id, Poco::Net::HTTPServerResponse& response);
    void showJob(std::int64_t id, Poco::Net::HTTPServerResponse& response);
    void listDeliveries(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

    // Refuses any query parameter, for the paths that take none, as those
    // that do refuse an unknown one.
    static void refuseQuery(Poco::Net::HTTPServerRequest& request);

private:
    // Answers a job queued (202) or found already waiting (200) for the same commit.
    void answerQueued(std::int64_t queued, std::int64_t pending, Poco::Net::HTTPServerResponse& response);

    const ApiSettings& settings_;
    Store& store_;
};

}  // namespace slipway
