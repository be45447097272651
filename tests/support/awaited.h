#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace slipway::testing {

// A value another thread hands over later (a store's or an intake's
// callback), waited for with a deadline: a callback that never comes fails
// the test, saying what it waited for, instead of holding the suite until
// ctest's timeout. The callback shares the slot, so that one arriving after
// the deadline still writes to memory that is alive.
template <typename T>
class Awaited {
public:
    // What the other thread calls, once.
    auto setter() const {
        return [state = state_](T value) {
            // Notified under the lock: the waiter cannot miss it.
            std::lock_guard<std::mutex> lock(state->mutex);
            state->value = std::move(value);
            state->changed.notify_all();
        };
    }

    // The value, once set; throws naming `what` when it is not within `timeout`.
    T take(const std::string& what, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        std::unique_lock<std::mutex> lock(state_->mutex);
        if (!state_->changed.wait_for(lock, timeout, [this] { return state_->value.has_value(); })) {
            throw std::runtime_error(what + " did not come within " + std::to_string(timeout.count()) + " ms");
        }
        return std::move(*state_->value);
    }

private:
    struct State {
        std::mutex mutex;
        std::condition_variable changed;
        std::optional<T> value;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace slipway::testing
