#include "daemon/http/ready_handler.h"

#include <functional>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/http/http_response.h"
#include "daemon/registry/registry_probe.h"

namespace slipway {

ReadyHandler::ReadyHandler(Store& store, Backend& backend, const std::string& registryHost)
    : store_(store), backend_(backend), registryHost_(registryHost) {}

void ReadyHandler::handleRequest(Poco::Net::HTTPServerRequest& /*request*/, Poco::Net::HTTPServerResponse& response) {
    Poco::JSON::Object::Ptr checks = new Poco::JSON::Object;
    bool ready = true;
    auto check = [&](const std::string& name, const std::function<void()>& probe) {
        try {
            probe();
            checks->set(name, "ok");
        } catch (const std::exception& e) {
            checks->set(name, e.what());
            ready = false;
        }
    };
    check("database", [&] { store_.checkWritable(); });
    check("builder", [&] { backend_.ping(); });
    check("registry", [&] { probeRegistry(registryHost_); });

    Poco::JSON::Object body;
    body.set("ready", ready);
    body.set("checks", checks);
    sendJson(response, ready ? Poco::Net::HTTPResponse::HTTP_OK : Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
             body);
}

}  // namespace slipway
