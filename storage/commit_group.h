#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace slipway {

// Group commit: concurrent callers share one durable commit instead of paying
// for one each. With synchronous=FULL every commit waits for an fsync, and a
// webhook may only be answered after its delivery is committed; so requests
// that arrive while a commit is in flight queue up, and the next commit takes
// all of them at once.
//
// No thread of its own: the first caller that finds no commit in flight
// commits everything queued (its own request included) and wakes the others;
// a caller whose request was taken by someone else's commit waits for it.
// One commit runs at a time.
template <typename Request>
class CommitGroup {
public:
    // Writes a batch of requests in one transaction and commits it; it records
    // each request's own outcome in the request. Throwing fails the whole batch.
    using Commit = std::function<void(const std::vector<Request*>&)>;

    explicit CommitGroup(Commit commit) : commit_(std::move(commit)) {}
    CommitGroup(const CommitGroup&) = delete;
    CommitGroup& operator=(const CommitGroup&) = delete;

    // Returns once a commit that included `request` has ended; rethrows what
    // that commit threw. `request` must live until then.
    void submit(Request& request) {
        Waiter waiter{&request};
        std::unique_lock<std::mutex> lock(mutex_);
        queue_.push_back(&waiter);
        while (!waiter.done) {
            if (committing_) {
                // Woken only when its commit ended or when it is first in line
                // for the next one: with 64 request threads, waking every
                // waiter at every commit cost more than the commits.
                waiter.wakeup.wait(lock);
                continue;
            }
            committing_ = true;
            std::vector<Waiter*> batch;
            batch.swap(queue_);
            lock.unlock();
            std::vector<Request*> requests;
            requests.reserve(batch.size());
            for (Waiter* w : batch) requests.push_back(w->request);
            std::exception_ptr failure;
            try {
                commit_(requests);
            } catch (...) {
                failure = std::current_exception();
            }
            lock.lock();
            for (Waiter* w : batch) {
                w->failure = failure;
                w->done = true;
                if (w != &waiter) w->wakeup.notify_one();
            }
            committing_ = false;
            ++batches_;
            if (!queue_.empty()) queue_.front()->wakeup.notify_one();
        }
        if (waiter.failure) std::rethrow_exception(waiter.failure);
    }

    // Requests waiting for the next commit (not those in the one in flight).
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
    struct Waiter {
        explicit Waiter(Request* r) : request(r) {}
        Request* request;
        bool done = false;
        std::exception_ptr failure;
        std::condition_variable wakeup;
    };

    Commit commit_;
    std::mutex mutex_;
    std::vector<Waiter*> queue_;
    bool committing_ = false;
    std::size_t batches_ = 0;
};

}  // namespace slipway
