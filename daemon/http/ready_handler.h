#pragma once

#include <string>

#include <Poco/Net/HTTPRequestHandler.h>

#include "backends/backend.h"
#include "storage/store.h"

namespace slipway {

// GET /readyz: 200 when the database takes writes, the builder's engine
// answers and the registry answers; 503 otherwise. The body names each check
// and, for a failed one, why.
class ReadyHandler : public Poco::Net::HTTPRequestHandler {
public:
    ReadyHandler(Store& store, Backend& backend, const std::string& registryHost);
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

private:
    Store& store_;
    Backend& backend_;
    const std::string& registryHost_;
};

}  // namespace slipway
