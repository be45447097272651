#include "storage/commit_group.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/eventually.h"

namespace slipway {
namespace {

using testing::eventually;

struct Request {
    int value = 0;
    bool committed = false;  // set by the commit; must be seen by the settle
};

// What each request's settle was told, by request value; shared with the group's thread.
struct Settled {
    std::mutex mutex;
    std::map<int, std::string> outcome;  // "committed", "not committed", or what the commit threw
    std::size_t size() {
        std::lock_guard<std::mutex> lock(mutex);
        return outcome.size();
    }
    std::string of(int value) {
        std::lock_guard<std::mutex> lock(mutex);
        const auto found = outcome.find(value);
        return found == outcome.end() ? "not settled" : found->second;
    }
};

CommitGroup<Request>::Settle recordIn(Settled& settled) {
    return [&settled](Request& request, std::exception_ptr failure) {
        std::string outcome = request.committed ? "committed" : "not committed";
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                outcome = e.what();
            }
        }
        std::lock_guard<std::mutex> lock(settled.mutex);
        EXPECT_EQ(settled.outcome.count(request.value), 0u) << request.value << " settled twice";
        settled.outcome[request.value] = outcome;
    };
}

// Stands for a slow fsync: a commit that lasts until the test lets it end,
// or 10 s (a test that failed before opening it must still end).
struct Gate {
    std::atomic<bool> open{false};
    void wait() const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!open) {
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "the gate was never opened";
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
};

TEST(CommitGroup, ASubmitReturnsAtOnceAndItsRequestIsSettledAfterItsCommit) {
    Gate gate;
    std::atomic<int> commits{0};
    Settled settled;
    CommitGroup<Request> group(
        [&](std::vector<Request>& batch) {
            ++commits;
            gate.wait();
            for (Request& r : batch) r.committed = true;
        },
        recordIn(settled));
    group.submit({1});
    ASSERT_TRUE(eventually([&] { return commits.load() == 1; }));
    EXPECT_EQ(settled.of(1), "not settled") << "settled before its commit ended";
    gate.open = true;
    ASSERT_TRUE(eventually([&] { return settled.size() == 1; }));
    EXPECT_EQ(settled.of(1), "committed");
    EXPECT_EQ(group.batches(), 1u);
}

TEST(CommitGroup, RequestsThatArriveDuringACommitShareTheNextOne) {
    Gate gate;
    std::mutex sizesMutex;
    std::vector<std::size_t> sizes;
    Settled settled;
    CommitGroup<Request> group(
        [&](std::vector<Request>& batch) {
            {
                std::lock_guard<std::mutex> lock(sizesMutex);
                sizes.push_back(batch.size());
            }
            if (batch.front().value == 0) gate.wait();
            for (Request& r : batch) r.committed = true;
        },
        recordIn(settled));

    group.submit({0});
    ASSERT_TRUE(eventually([&] {
        std::lock_guard<std::mutex> lock(sizesMutex);
        return sizes.size() == 1;
    }));
    constexpr int kLater = 8;
    std::vector<std::thread> threads;
    for (int i = 1; i <= kLater; ++i) threads.emplace_back([&, i] { group.submit({i}); });
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(group.waiting(), static_cast<std::size_t>(kLater));
    EXPECT_EQ(settled.size(), 0u) << "settled before its commit";
    gate.open = true;
    ASSERT_TRUE(eventually([&] { return settled.size() == kLater + 1; }));

    for (int i = 0; i <= kLater; ++i) EXPECT_EQ(settled.of(i), "committed") << i;
    std::lock_guard<std::mutex> lock(sizesMutex);
    EXPECT_EQ(sizes, (std::vector<std::size_t>{1, kLater})) << "the eight waiting requests take one commit";
    EXPECT_EQ(group.batches(), 2u);
}

TEST(CommitGroup, ACommitTakesAtMostTheBoundAndTheOldestFirst) {
    Gate gate;
    std::mutex batchesMutex;
    std::vector<std::vector<int>> batches;
    Settled settled;
    CommitGroup<Request> group(
        [&](std::vector<Request>& batch) {
            std::vector<int> values;
            for (const Request& r : batch) values.push_back(r.value);
            {
                std::lock_guard<std::mutex> lock(batchesMutex);
                batches.push_back(values);
            }
            if (values.front() == 0) gate.wait();
            for (Request& r : batch) r.committed = true;
        },
        recordIn(settled), 2);

    group.submit({0});
    ASSERT_TRUE(eventually([&] {
        std::lock_guard<std::mutex> lock(batchesMutex);
        return batches.size() == 1;
    }));
    for (int i = 1; i <= 5; ++i) group.submit({i});
    gate.open = true;
    ASSERT_TRUE(eventually([&] { return settled.size() == 6; }));
    for (int i = 0; i <= 5; ++i) EXPECT_EQ(settled.of(i), "committed") << i;
    std::lock_guard<std::mutex> lock(batchesMutex);
    EXPECT_EQ(batches, (std::vector<std::vector<int>>{{0}, {1, 2}, {3, 4}, {5}}));
}

TEST(CommitGroup, AFailedCommitFailsEveryRequestInItAndTheNextCommitWorks) {
    Gate gate;
    std::atomic<int> commits{0};
    Settled settled;
    CommitGroup<Request> group(
        [&](std::vector<Request>& batch) {
            const int n = commits++;
            if (n == 0) gate.wait();
            if (n == 1) throw std::runtime_error("disk I/O error");  // the four held up behind the first
            for (Request& r : batch) r.committed = true;
        },
        recordIn(settled));

    group.submit({0});
    ASSERT_TRUE(eventually([&] { return commits.load() == 1; }));
    for (int i = 1; i <= 4; ++i) group.submit({i});
    gate.open = true;
    ASSERT_TRUE(eventually([&] { return settled.size() == 5; }));
    EXPECT_EQ(settled.of(0), "committed");
    for (int i = 1; i <= 4; ++i) EXPECT_EQ(settled.of(i), "disk I/O error") << i;

    group.submit({5});
    ASSERT_TRUE(eventually([&] { return settled.size() == 6; }));
    EXPECT_EQ(settled.of(5), "committed");
    EXPECT_EQ(group.batches(), 3u);
}

TEST(CommitGroup, WhatIsQueuedWhenTheGroupEndsIsCommittedAndSettledFirst) {
    Gate gate;
    std::atomic<int> commits{0};
    Settled settled;
    auto group = std::make_unique<CommitGroup<Request>>(
        [&](std::vector<Request>& batch) {
            if (commits++ == 0) gate.wait();
            for (Request& r : batch) r.committed = true;
        },
        recordIn(settled));
    group->submit({0});
    ASSERT_TRUE(eventually([&] { return commits.load() == 1; }));
    group->submit({1});
    group->submit({2});
    std::thread ending([&] { group.reset(); });
    gate.open = true;
    ending.join();
    ASSERT_EQ(settled.size(), 3u);
    for (int i = 0; i <= 2; ++i) EXPECT_EQ(settled.of(i), "committed") << i;
}

TEST(CommitGroup, EveryRequestOfManyThreadsIsCommittedAndSettledExactlyOnce) {
    std::atomic<int> committed{0};
    Settled settled;
    CommitGroup<Request> group(
        [&](std::vector<Request>& batch) {
            for (Request& r : batch) {
                EXPECT_FALSE(r.committed) << "committed twice";
                r.committed = true;
                ++committed;
            }
        },
        recordIn(settled));
    constexpr int kThreads = 16;
    constexpr int kEach = 200;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) group.submit({t * kEach + i});
        });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_TRUE(eventually([&] { return settled.size() == kThreads * kEach; }));
    EXPECT_EQ(committed.load(), kThreads * kEach);
    for (int v = 0; v < kThreads * kEach; ++v) ASSERT_EQ(settled.of(v), "committed") << v;
}

TEST(CommitGroup, TheNextBatchCommitsWhileTheLastIsBeingSettled) {
    Gate settling;
    std::atomic<int> commits{0};
    Settled settled;
    const auto record = recordIn(settled);
    CommitGroup<Request> group(
        [&](std::vector<Request>& batch) {
            ++commits;
            for (Request& r : batch) r.committed = true;
        },
        [&](Request& request, std::exception_ptr failure) {
            if (request.value == 0) settling.wait();  // the first answer takes long to write
            record(request, failure);
        });
    group.submit({0});
    ASSERT_TRUE(eventually([&] { return commits.load() == 1; }));
    group.submit({1});
    EXPECT_TRUE(eventually([&] { return commits.load() == 2; })) << "waited for the first batch's settling";
    EXPECT_EQ(settled.size(), 0u);
    settling.open = true;
    ASSERT_TRUE(eventually([&] { return settled.size() == 2; }));
    EXPECT_EQ(settled.of(0), "committed");
    EXPECT_EQ(settled.of(1), "committed");
}

}  // namespace
}  // namespace slipway
