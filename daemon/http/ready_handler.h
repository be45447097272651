#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "backends/backend.h"
#include "backends/platform_support.h"
#include "storage/store.h"

namespace slipway {

// GET /readyz: 200 when the database takes writes, the builder's engine
// answers and the registry answers; 503 otherwise. The body names each check
// and, for a failed one, why, and the platforms the engine can build (its
// own, and those an emulator is registered for). The checks' result is kept for `maxAge`: a
// monitor polling it, or a client flooding it, runs at most one round of
// probes (a write, an engine ping, a TLS handshake) per `maxAge`, and
// requests arriving during a round answer the result before it (503 before
// the first round has ended).
class ReadinessProbes {
public:
    ReadinessProbes(Store& store, Backend& backend, const PlatformSupport& platforms, const std::string& registryHost,
                    std::chrono::milliseconds maxAge = std::chrono::milliseconds(1000));
    void answer(Poco::Net::HTTPServerResponse& response);

private:
    bool lastResult();
    std::chrono::steady_clock::time_point checkedAt();
    // Runs the three probes and keeps their result.
    void probe();

    Store& store_;
    Backend& backend_;
    const PlatformSupport& platforms_;
    const std::string& registryHost_;
    const std::chrono::milliseconds maxAge_;

    std::mutex roundMutex_;   // held during a round
    std::mutex resultMutex_;  // held while the result is read or replaced
    std::chrono::steady_clock::time_point checkedAt_{};
    bool ready_ = false;
    Poco::JSON::Object::Ptr checks_;
    Poco::JSON::Array::Ptr platformsBuildable_;  // null while the engine has not answered
};

}  // namespace slipway
