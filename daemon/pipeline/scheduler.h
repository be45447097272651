#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "daemon/pipeline/job_runner.h"
#include "storage/store.h"

namespace slipway {

// A fixed pool of workers that claim queued jobs from the store and run them.
// Jobs are claimed in queue order; the store makes each claim atomic.
class Scheduler {
public:
    Scheduler(Store& store, JobRunner& runner, unsigned workers);
    ~Scheduler();

    // Starts the workers; they take whatever is already queued.
    void start();

    // Tells a waiting worker that a job was queued.
    void wake();

    // Workers claim no new job; each ends when its current job does.
    void requestStop();

    // Waits up to `timeout` for every worker to end; returns whether they all did.
    bool waitForWorkers(std::chrono::milliseconds timeout);

    // How many workers are still running a job.
    unsigned busyWorkers();

    // The ids of the jobs the workers are running now: those whose leases
    // this node renews (any other it claimed is left to lapse).
    std::vector<std::int64_t> runningJobs();

    // Whether no stop was asked for and, once started, every worker is
    // there: what the watchdog is fed on.
    bool healthy();

    // requestStop(), then joins the workers however long their jobs take.
    void stop();

private:
    void work();

    Store& store_;
    JobRunner& runner_;
    unsigned workers_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable wakeup_;
    std::condition_variable ended_;
    bool stopping_ = false;
    bool started_ = false;
    unsigned pendingWakeups_ = 0;
    unsigned alive_ = 0;
    unsigned busy_ = 0;
    std::multiset<std::int64_t> running_;
};

}  // namespace slipway
