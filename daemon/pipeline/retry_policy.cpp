#include "daemon/pipeline/retry_policy.h"

#include <algorithm>
#include <thread>

namespace slipway {

std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry, double jitter) {
    double delay = static_cast<double>(policy.firstDelay.count());
    for (int i = 1; i < retry && delay < static_cast<double>(policy.maxDelay.count()); ++i) delay *= 2;
    delay *= std::clamp(jitter, 0.5, 1.5);
    return std::chrono::milliseconds(
        static_cast<long long>(std::min(delay, static_cast<double>(policy.maxDelay.count()))));
}

void withRetries(const RetryPolicy& policy, const std::function<void()>& step,
                 const std::function<bool(const std::exception&)>& transient,
                 const std::function<void(const std::string&, std::chrono::milliseconds, int)>& onRetry,
                 const std::atomic<bool>& stopping) {
    thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    for (int retry = 1;; ++retry) {
        try {
            step();
            return;
        } catch (const Interrupted&) {
            throw;
        } catch (const std::exception& e) {
            if (retry > policy.retries || !transient(e)) throw;
            if (stopping) throw Interrupted();
            const std::chrono::milliseconds wait = backoffDelay(policy, retry, jitter(random));
            onRetry(e.what(), wait, retry);
            const auto until = std::chrono::steady_clock::now() + wait;
            while (std::chrono::steady_clock::now() < until) {
                if (stopping) throw Interrupted();
                std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                    std::chrono::milliseconds(100), until - std::chrono::steady_clock::now()));
            }
        }
    }
}

}  // namespace slipway
