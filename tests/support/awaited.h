#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace slipway::testing {

// A value another thread hands over later (a store's or an intake's
// callback), waited for with a deadline: a callback that never comes fails
// the test, saying what it waited for, instead of holding the suite until
// ctest's timeout. The callback shares the slot, so that one arriving after
// the deadline still writes to memory that is alive.
template <typename T>
class Awaited {
public:
    // The callback, for whatever calls it once, on any thread (this one too,
    // before take()).
    auto setter() const {
        return [state = state_](T value) {
            std::lock_guard<std::mutex> lock(state->mutex);
            state->value = std::move(value);
            state->changed.notify_all();
        };
    }

    // The value, once set, taken out; throws naming `what` when it is not
    // set within `timeout`.
    T take(const std::string& what, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        std::unique_lock<std::mutex> lock(state_->mutex);
        if (!state_->changed.wait_for(lock, timeout, [this] { return state_->value.has_value(); })) {
            throw std::runtime_error(what + " did not come within " + std::to_string(timeout.count()) + " ms");
        }
        T value = std::move(*state_->value);
        state_->value.reset();
        return value;
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
