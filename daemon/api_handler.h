#pragma once

#include <functional>
#include <string>

#include <Poco/Net/HTTPRequestHandler.h>

#include "storage/store.h"

namespace slipway {

// GET /api/builds, /api/builds/{id}, /api/builds/{id}/log, /api/jobs/{id} and
// /api/deliveries. When `token` is not empty every request must carry
// "Authorization: Bearer <token>".
class ApiHandler : public Poco::Net::HTTPRequestHandler {
public:
    using LogPath = std::function<std::string(std::int64_t buildId)>;
    ApiHandler(const std::string& token, Store& store, LogPath logPath);
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
    void listBuilds(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
    void showBuild(std::int64_t id, Poco::Net::HTTPServerResponse& response);
    void sendLog(std::int64_t id, Poco::Net::HTTPServerResponse& response);
    void showJob(std::int64_t id, Poco::Net::HTTPServerResponse& response);
    void listDeliveries(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

    const std::string& token_;
    Store& store_;
    LogPath logPath_;
};

}  // namespace slipway
