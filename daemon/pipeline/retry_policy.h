#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>

namespace slipway {

// How a step that failed for a transient reason is tried again: up to
// `retries` more times, waiting `firstDelay` doubled each time, with jitter,
// never more than `maxDelay`.
struct RetryPolicy {
    int retries = 4;
    std::chrono::milliseconds firstDelay{2000};
    std::chrono::milliseconds maxDelay{60000};
};

// The wait before retry number `retry` (1 for the first): firstDelay·2^(retry-1)
// scaled by `jitter` (0.5 to 1.5), so that many builds failing together do not
// all come back at once, and never more than maxDelay.
std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry, double jitter);

// A stop of slipwayd cut a step short; the job is left for the next start.
class Interrupted : public std::runtime_error {
public:
    Interrupted() : std::runtime_error("interrupted: slipwayd is stopping") {}
};

// Runs `step`. When it throws and `transient` says the failure is worth
// another try, tells `onRetry` why and how long it waits, waits, and runs it
// again; rethrows the last failure when the retries are spent or the failure
// is not transient. A set `stopping` ends a wait early with Interrupted.
void withRetries(const RetryPolicy& policy, const std::function<void()>& step,
                 const std::function<bool(const std::exception&)>& transient,
                 const std::function<void(const std::string& why, std::chrono::milliseconds wait, int retry)>& onRetry,
                 const std::atomic<bool>& stopping);

}  // namespace slipway
