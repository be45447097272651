#include "daemon/pipeline/scheduler.h"

#include <Poco/Logger.h>

namespace slipway {

Scheduler::Scheduler(Store& store, JobRunner& runner, unsigned workers)
    : store_(store), runner_(runner), workers_(workers) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    alive_ = workers_;
    started_ = true;
    for (unsigned i = 0; i < workers_; ++i) threads_.emplace_back([this] { work(); });
}

void Scheduler::wake() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++pendingWakeups_;
    }
    wakeup_.notify_one();
}

void Scheduler::requestStop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
}

bool Scheduler::waitForWorkers(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return ended_.wait_for(lock, timeout, [this] { return alive_ == 0; });
}

unsigned Scheduler::busyWorkers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return busy_;
}

std::vector<std::int64_t> Scheduler::runningJobs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {running_.begin(), running_.end()};
}

bool Scheduler::healthy() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !stopping_ && (!started_ || alive_ == workers_);
}

void Scheduler::stop() {
    requestStop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
}

void Scheduler::work() {
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;
        }
        std::optional<Job> job;
        try {
            job = store_.claimJob();
        } catch (const std::exception& e) {
            Poco::Logger::get("slipway.scheduler").error(std::string("cannot claim a job: ") + e.what());
        }
        if (job) {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ++busy_;
                running_.insert(job->id);
            }
            runner_.run(*job);  // never throws
            std::lock_guard<std::mutex> lock(mutex_);
            --busy_;
            running_.erase(running_.find(job->id));
            continue;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        // Looking again now and then also recovers from a store that failed to answer.
        wakeup_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_ || pendingWakeups_ > 0; });
        if (pendingWakeups_ > 0) --pendingWakeups_;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    --alive_;
    ended_.notify_all();
}

}  // namespace slipway
