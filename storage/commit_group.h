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
// commits everything queued (its own request included); when it ends, it
// hands the next commit to the first request queued meanwhile, then releases
// the requests it committed. One commit runs at a time.
//
// Each waiter sleeps on a mutex and condition variable of its own. With one
// shared mutex, the requests a commit released woke only to queue for that
// mutex one after another: a second sleep per request, and the last of 24
// waited for the 23 before it.
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
        Waiter waiter(&request);
        bool leads = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            queue_.push_back(&waiter);
            if (!committing_) committing_ = leads = true;
        }
        if (leads || waiter.await() == Turn::Lead) lead(waiter);
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
    enum class Turn { Wait, Lead, Done };

    struct Waiter {
        explicit Waiter(Request* r) : request(r) {}

        // Sleeps until a committer says whether this request was committed
        // (Done) or is to commit the next batch (Lead).
        Turn await() {
            std::unique_lock<std::mutex> lock(mutex);
            wakeup.wait(lock, [this] { return turn != Turn::Wait; });
            return turn;
        }

        // Notifies under the waiter's own lock: the waiter cannot see `turn`
        // change, return and destroy itself until this has let go of it.
        void settle(Turn t, std::exception_ptr f) {
            std::lock_guard<std::mutex> lock(mutex);
            failure = std::move(f);
            turn = t;
            wakeup.notify_one();
        }

        Request* request;
        std::exception_ptr failure;
        std::mutex mutex;
        std::condition_variable wakeup;
        Turn turn = Turn::Wait;
    };

    // Commits every queued request, `self`'s among them (it is still queued,
    // whether it found no commit in flight or was handed this one).
    void lead(Waiter& self) {
        std::vector<Waiter*> batch;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            batch.swap(queue_);
        }
        std::exception_ptr failure;
        try {  // whatever throws fails the batch: each waiter must still be released
            std::vector<Request*> requests;
            requests.reserve(batch.size());
            for (Waiter* w : batch) requests.push_back(w->request);
            commit_(requests);
        } catch (...) {
            failure = std::current_exception();
        }
        Waiter* next = nullptr;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++batches_;
            if (queue_.empty()) {
                committing_ = false;
            } else {
                next = queue_.front();
            }
        }
        // The next commit first: its requests are already waiting.
        if (next) next->settle(Turn::Lead, nullptr);
        for (Waiter* w : batch) {
            if (w == &self) {
                self.failure = failure;
            } else {
                w->settle(Turn::Done, failure);
            }
        }
    }

    Commit commit_;
    std::mutex mutex_;
    std::vector<Waiter*> queue_;
    bool committing_ = false;
    std::size_t batches_ = 0;
};

}  // namespace slipway
