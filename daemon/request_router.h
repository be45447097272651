#pragma once

#include <functional>
#include <string>

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "daemon/api_handler.h"
#include "daemon/webhook_handler.h"
#include "storage/store.h"

namespace slipway {

// Maps each request path to its handler (the table in DESIGN.md).
class RequestRouter : public Poco::Net::HTTPRequestHandlerFactory {
public:
    RequestRouter(const WebhookSettings& webhook, const std::string& apiToken, Store& store,
                  std::function<void()> jobsQueued, ApiHandler::LogPath logPath);
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
    const WebhookSettings& webhook_;
    const std::string& apiToken_;
    Store& store_;
    std::function<void()> jobsQueued_;
    ApiHandler::LogPath logPath_;
};

}  // namespace slipway
