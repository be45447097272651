#include "daemon/http/ready_handler.h"

#include <functional>

#include "daemon/http/http_response.h"
#include "daemon/registry/registry_probe.h"

namespace slipway {

ReadinessProbes::ReadinessProbes(Store& store, Backend& backend, const PlatformSupport& platforms,
                                 const std::string& registryHost, std::chrono::milliseconds maxAge)
    : store_(store), backend_(backend), platforms_(platforms), registryHost_(registryHost), maxAge_(maxAge) {}

void ReadinessProbes::answer(Poco::Net::HTTPServerResponse& response) {
    {
        // One round at a time. While one is under way (a slow engine or
        // registry takes seconds), the others answer the last result instead
        // of piling up on the workers behind it, or 503 before the first.
        std::unique_lock<std::mutex> round(roundMutex_, std::try_to_lock);
        if (round.owns_lock() && (!lastResult() || std::chrono::steady_clock::now() - checkedAt() >= maxAge_)) {
            probe();
        }
    }
    std::lock_guard<std::mutex> lock(resultMutex_);
    Poco::JSON::Object body;
    body.set("ready", ready_);
    if (checks_.isNull()) {
        Poco::JSON::Object::Ptr pending = new Poco::JSON::Object;
        for (const char* name : {"database", "builder", "registry"}) pending->set(name, "the first check is under way");
        body.set("checks", pending);
    } else {
        body.set("checks", checks_);
    }
    // Which platforms the engine builds; null when it did not answer.
    body.set("platforms", platformsBuildable_.isNull() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(platformsBuildable_));
    sendJson(response, ready_ ? Poco::Net::HTTPResponse::HTTP_OK : Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
             body);
}

bool ReadinessProbes::lastResult() {
    std::lock_guard<std::mutex> lock(resultMutex_);
    return !checks_.isNull();
}

std::chrono::steady_clock::time_point ReadinessProbes::checkedAt() {
    std::lock_guard<std::mutex> lock(resultMutex_);
    return checkedAt_;
}

void ReadinessProbes::probe() {
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
    Poco::JSON::Array::Ptr buildable;
    check("builder", [&] {
        const Platform native = backend_.ping();
        buildable = new Poco::JSON::Array;
        for (const std::string& platform : platforms_.buildable(native)) buildable->add(platform);
    });
    check("registry", [&] { probeRegistry(registryHost_); });
    std::lock_guard<std::mutex> lock(resultMutex_);
    checks_ = checks;
    platformsBuildable_ = buildable;
    ready_ = ready;
    // From the end of the round: a slow round is not run again at once.
    checkedAt_ = std::chrono::steady_clock::now();
}

}  // namespace slipway
