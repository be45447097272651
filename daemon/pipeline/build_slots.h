#pragma once

#include <condition_variable>
#include <mutex>

namespace slipway {

// A counting semaphore for builds: builder.concurrency bounds how many images
// are built at the same time, whether they come from one job's services or
// from several jobs.
class BuildSlots {
public:
    explicit BuildSlots(unsigned count) : free_(count) {}
    BuildSlots(const BuildSlots&) = delete;
    BuildSlots& operator=(const BuildSlots&) = delete;

    // Holds one slot from construction (waiting for one to be free) to destruction.
    class Slot {
    public:
        explicit Slot(BuildSlots& slots) : slots_(slots) { slots_.acquire(); }
        ~Slot() { slots_.release(); }
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;

    private:
        BuildSlots& slots_;
    };

private:
    void acquire() {
        std::unique_lock<std::mutex> lock(mutex_);
        released_.wait(lock, [this] { return free_ > 0; });
        --free_;
    }
    void release() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++free_;
        }
        released_.notify_one();
    }

    std::mutex mutex_;
    std::condition_variable released_;
    unsigned free_;
};

}  // namespace slipway
