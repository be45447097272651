#include "storage/commit_group.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/eventually.h"

namespace slipway {
namespace {

using testing::eventually;

struct Request {
    int value = 0;
    bool committed = false;  // set by the commit; must be seen when submit returns
};

TEST(CommitGroup, ACallerAloneCommitsItsOwnRequest) {
    std::vector<std::size_t> sizes;
    CommitGroup<Request> group([&](const std::vector<Request*>& batch) {
        sizes.push_back(batch.size());
        for (Request* r : batch) r->committed = true;
    });
    Request request;
    group.submit(request);
    EXPECT_TRUE(request.committed);
    EXPECT_EQ(sizes, std::vector<std::size_t>{1});
    EXPECT_EQ(group.batches(), 1u);
}

TEST(CommitGroup, RequestsThatArriveDuringACommitShareTheNextOne) {
    std::mutex sizesMutex;
    std::vector<std::size_t> sizes;
    std::atomic<bool> release{false};
    CommitGroup<Request> group([&](const std::vector<Request*>& batch) {
        {
            std::lock_guard<std::mutex> lock(sizesMutex);
            sizes.push_back(batch.size());
        }
        // The first commit stands for a slow fsync: it lasts until the test has queued the others.
        if (batch.size() == 1 && batch[0]->value == 0) {
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        for (Request* r : batch) r->committed = true;
    });

    Request first;
    std::thread leader([&] { group.submit(first); });
    ASSERT_TRUE(eventually([&] {
        std::lock_guard<std::mutex> lock(sizesMutex);
        return sizes.size() == 1;
    }));

    constexpr int kFollowers = 8;
    std::vector<Request> requests(kFollowers);
    std::vector<std::thread> followers;
    for (int i = 0; i < kFollowers; ++i) {
        requests[static_cast<std::size_t>(i)].value = i + 1;
        followers.emplace_back([&, i] { group.submit(requests[static_cast<std::size_t>(i)]); });
    }
    ASSERT_TRUE(eventually([&] { return group.waiting() == kFollowers; }));
    for (const Request& r : requests) EXPECT_FALSE(r.committed) << "answered before its commit";
    release = true;
    leader.join();
    for (std::thread& t : followers) t.join();

    EXPECT_TRUE(first.committed);
    for (const Request& r : requests) EXPECT_TRUE(r.committed);
    EXPECT_EQ(sizes, (std::vector<std::size_t>{1, kFollowers})) << "the eight waiting requests take one commit";
    EXPECT_EQ(group.batches(), 2u);
}

TEST(CommitGroup, AFailedCommitFailsEveryRequestInItAndTheNextCommitWorks) {
    std::atomic<bool> fail{true};
    std::atomic<bool> release{false};
    std::atomic<int> commits{0};
    CommitGroup<Request> group([&](const std::vector<Request*>& batch) {
        if (commits++ == 0) {
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return;  // the first commit succeeds; the held-up ones fail together
        }
        if (fail) throw std::runtime_error("disk I/O error");
        for (Request* r : batch) r->committed = true;
    });

    Request first;
    std::thread leader([&] { group.submit(first); });
    ASSERT_TRUE(eventually([&] { return commits.load() == 1; }));
    std::vector<Request> requests(4);
    std::atomic<int> failures{0};
    std::vector<std::thread> followers;
    for (Request& r : requests) {
        followers.emplace_back([&] {
            try {
                group.submit(r);
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "disk I/O error");
                ++failures;
            }
        });
    }
    ASSERT_TRUE(eventually([&] { return group.waiting() == requests.size(); }));
    release = true;
    leader.join();
    for (std::thread& t : followers) t.join();
    EXPECT_EQ(failures.load(), 4);
    for (const Request& r : requests) EXPECT_FALSE(r.committed);

    fail = false;
    Request later;
    group.submit(later);
    EXPECT_TRUE(later.committed);
}

TEST(CommitGroup, RequestsQueuedDuringAFailedCommitAreCommittedByTheNext) {
    std::atomic<int> commits{0};
    std::atomic<bool> releaseFirst{false};
    std::atomic<bool> releaseFailing{false};
    CommitGroup<Request> group([&](const std::vector<Request*>& batch) {
        const int n = commits++;
        if (n == 0) {
            while (!releaseFirst) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } else if (n == 1) {
            while (!releaseFailing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            throw std::runtime_error("disk I/O error");
        }
        for (Request* r : batch) r->committed = true;
    });

    Request first;
    std::thread leader([&] { group.submit(first); });
    ASSERT_TRUE(eventually([&] { return commits.load() == 1; }));
    std::atomic<int> failures{0};
    std::atomic<int> successes{0};
    auto submit = [&](Request& r) {
        try {
            group.submit(r);
            ++successes;
        } catch (const std::runtime_error&) {
            ++failures;
        }
    };
    std::vector<Request> failing(2);
    std::vector<std::thread> threads;
    for (Request& r : failing) threads.emplace_back([&] { submit(r); });
    ASSERT_TRUE(eventually([&] { return group.waiting() == failing.size(); }));
    releaseFirst = true;
    // The first queued of `failing` was handed the second commit, which holds.
    ASSERT_TRUE(eventually([&] { return commits.load() == 2; }));
    std::vector<Request> later(2);
    for (Request& r : later) threads.emplace_back([&] { submit(r); });
    ASSERT_TRUE(eventually([&] { return group.waiting() == later.size(); }));
    releaseFailing = true;
    leader.join();
    for (std::thread& t : threads) t.join();

    EXPECT_EQ(failures.load(), 2);
    EXPECT_EQ(successes.load(), 2);
    for (const Request& r : later) EXPECT_TRUE(r.committed) << "the failed commit handed the next one over";
    EXPECT_EQ(group.batches(), 3u);
}

TEST(CommitGroup, EveryRequestOfManyThreadsIsCommittedExactlyOnce) {
    std::atomic<int> committed{0};
    CommitGroup<Request> group([&](const std::vector<Request*>& batch) {
        for (Request* r : batch) {
            EXPECT_FALSE(r->committed) << "committed twice";
            r->committed = true;
            ++committed;
        }
    });
    constexpr int kThreads = 16;
    constexpr int kEach = 200;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kEach; ++i) {
                Request r;
                group.submit(r);
                EXPECT_TRUE(r.committed);
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(committed.load(), kThreads * kEach);
    EXPECT_LE(group.batches(), static_cast<std::size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace slipway
