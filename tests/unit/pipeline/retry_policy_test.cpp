#include "daemon/pipeline/retry_policy.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicy, DoublesTheDelayUpToTheCapWithJitter) {
    const RetryPolicy policy{5, milliseconds(100), milliseconds(1000)};
    EXPECT_EQ(backoffDelay(policy, 1, 1.0), milliseconds(100));
    EXPECT_EQ(backoffDelay(policy, 2, 1.0), milliseconds(200));
    EXPECT_EQ(backoffDelay(policy, 4, 1.0), milliseconds(800));
    EXPECT_EQ(backoffDelay(policy, 5, 1.0), milliseconds(1000));
    EXPECT_EQ(backoffDelay(policy, 60, 1.0), milliseconds(1000));
    EXPECT_EQ(backoffDelay(policy, 1, 0.5), milliseconds(50));
    EXPECT_EQ(backoffDelay(policy, 1, 1.5), milliseconds(150));
    EXPECT_EQ(backoffDelay(policy, 1, 9.0), milliseconds(150));  // jitter is clamped
    EXPECT_EQ(backoffDelay(policy, 5, 1.5), milliseconds(1000));  // and so is the wait
}

struct Transient : std::runtime_error {
    using std::runtime_error::runtime_error;
};

bool isTransient(const std::exception& e) { return dynamic_cast<const Transient*>(&e) != nullptr; }

TEST(RetryPolicy, RetriesTransientFailuresUntilOneSucceeds) {
    std::atomic<bool> stopping{false};
    int calls = 0;
    std::vector<int> retries;
    withRetries({4, milliseconds(1), milliseconds(2)},
                [&] {
                    if (++calls < 3) throw Transient("registry: 503 Service Unavailable");
                },
                isTransient, [&](const std::string&, milliseconds, int retry) { retries.push_back(retry); }, stopping);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(retries, (std::vector<int>{1, 2}));
}

TEST(RetryPolicy, GivesUpAfterTheRetriesAndRethrowsTheLastFailure) {
    std::atomic<bool> stopping{false};
    int calls = 0;
    EXPECT_THROW(withRetries({2, milliseconds(1), milliseconds(1)}, [&] { ++calls, throw Transient("down"); },
                             isTransient, [](const std::string&, milliseconds, int) {}, stopping),
                 Transient);
    EXPECT_EQ(calls, 3);
}

TEST(RetryPolicy, NeverRetriesAFailureThatIsNotTransient) {
    std::atomic<bool> stopping{false};
    int calls = 0;
    EXPECT_THROW(withRetries({5, milliseconds(1), milliseconds(1)},
                             [&] { ++calls, throw std::runtime_error("the Dockerfile does not build"); }, isTransient,
                             [](const std::string&, milliseconds, int) {}, stopping),
                 std::runtime_error);
    EXPECT_EQ(calls, 1);
}

TEST(RetryPolicy, AStopEndsTheWaitWithInterrupted) {
    std::atomic<bool> stopping{false};
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(withRetries({3, milliseconds(60000), milliseconds(60000)}, [&] { throw Transient("down"); },
                             isTransient, [&](const std::string&, milliseconds, int) { stopping = true; }, stopping),
                 Interrupted);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace slipway
