#include "daemon/http/ready_handler.h"

#include <functional>

#include "daemon/http/http_response.h"
#include "daemon/registry/registry_probe.h"

namespace slipway {

ReadinessProbes::ReadinessProbes(Store& store, Backend& backend, const std::string& registryHost,
                                 std::chrono::milliseconds maxAge)
    : store_(store), backend_(backend), registryHost_(registryHost), maxAge_(maxAge) {}

void ReadinessProbes::answer(Poco::Net::HTTPServerResponse& response) {
    Poco::JSON::Object body;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (!checks_ || now - checkedAt_ >= maxAge_) {
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
            checks_ = checks;
            ready_ = ready;
            // From the end of the round: a slow round is not run again at once.
            checkedAt_ = std::chrono::steady_clock::now();
        }
        body.set("ready", ready_);
        body.set("checks", checks_);
    }
    sendJson(response, body.getValue<bool>("ready") ? Poco::Net::HTTPResponse::HTTP_OK
                                                    : Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
             body);
}

}  // namespace slipway
