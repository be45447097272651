#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace slipway {

// Group commit: requests share one durable commit instead of paying for one
// each. With synchronous=FULL every commit waits for an fsync, and a webhook
// may only be answered after its delivery is committed; so requests that
// arrive while a commit is in flight queue up, and the next commit takes them
// at once (up to a bound).
//
// The group commits on a thread of its own, and tells each request's owner
// afterwards on another, so that a batch's owners are told (their answers
// written) while the next batch commits. Whoever submits a request goes on
// at once: the front door's workers used to sleep in here until their
// commit ended and be woken one by one after it (bench/README.md).
template <typename Request>
class CommitGroup {
public:
    // Writes a batch of requests in one transaction and commits it; records
    // each request's own outcome in the request. Throwing fails the whole batch.
    using Commit = std::function<void(std::vector<Request>& batch)>;
    // Told, on the group's settling thread, what became of one request once its
    // commit has ended: `failure` is what the commit threw, null when it did
    // not. Must not throw, and should be brief: every request committed after
    // it is told after it.
    using Settle = std::function<void(Request& request, std::exception_ptr failure)>;

    // A commit takes at most `maxBatch` requests: a flood of them must not
    // make one transaction long enough to hold up whatever else waits for
    // the database (the store's lock, PostgreSQL's row locks).
    CommitGroup(Commit commit, Settle settle, std::size_t maxBatch = 256)
        : commit_(std::move(commit)),
          settle_(std::move(settle)),
          maxBatch_(maxBatch == 0 ? 1 : maxBatch),
          committer_([this] { commitAll(); }),
          settler_([this] { settleAll(); }) {}

    // Commits and settles whatever is still queued, then ends the threads.
    ~CommitGroup() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        queued_.notify_one();
        committer_.join();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            committed_ = true;
        }
        settleReady_.notify_one();
        settler_.join();
    }

    CommitGroup(const CommitGroup&) = delete;
    CommitGroup& operator=(const CommitGroup&) = delete;

    // Queues `request` for the next commit and returns at once.
    void submit(Request request) {
        bool wasEmpty = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            wasEmpty = queue_.empty();
            queue_.push_back(std::move(request));
        }
        // Only the first of a batch can find the thread asleep.
        if (wasEmpty) queued_.notify_one();
    }

    // Requests queued and not yet in a commit.
    std::size_t waiting() {
        std::lock_guard<std::mutex> lock(mutex_);
        return queue_.size();
    }

    // Commits made so far, failed ones included.
    std::size_t batches() {
        std::lock_guard<std::mutex> lock(mutex_);
        return batches_;
    }

private:
    // A batch committed (or failed), for the settling thread.
    struct Committed {
        std::vector<Request> batch;
        std::exception_ptr failure;
    };

    void commitAll() {
        std::vector<Request> batch;
        while (true) {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;  // stopping, and nothing is left
                // The oldest first; any left are the next batch's. A deque:
                // taking a batch off the front moves nothing behind it.
                const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(std::min(queue_.size(), maxBatch_));
                batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
                queue_.erase(queue_.begin(), end);
            }
            std::exception_ptr failure;
            try {  // whatever throws fails the batch: each request must still be settled
                commit_(batch);
            } catch (...) {
                failure = std::current_exception();
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ++batches_;
                settling_.push_back({std::move(batch), failure});
            }
            settleReady_.notify_one();
            batch.clear();
        }
    }

    void settleAll() {
        while (true) {
            Committed committed;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                settleReady_.wait(lock, [this] { return committed_ || !settling_.empty(); });
                if (settling_.empty()) return;  // the committer has ended, and nothing is left
                committed = std::move(settling_.front());
                settling_.pop_front();
            }
            settle(committed);
        }
    }

    // A settle that throws breaks the promise every owner relies on (to be
    // told exactly once): better to stop there than to leave owners waiting.
    void settle(Committed& committed) noexcept {
        for (Request& request : committed.batch) settle_(request, committed.failure);
    }

    const Commit commit_;
    const Settle settle_;
    const std::size_t maxBatch_;
    std::mutex mutex_;
    std::condition_variable queued_;       // a request for the committer, or its stop
    std::condition_variable settleReady_;  // a batch for the settler, or the committer's end
    std::deque<Request> queue_;
    std::deque<Committed> settling_;
    bool stopping_ = false;
    bool committed_ = false;  // the committer has ended
    std::size_t batches_ = 0;
    // Last: started once everything they use is.
    std::thread committer_;
    std::thread settler_;
};

}  // namespace slipway
