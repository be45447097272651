#include "daemon/stop_signal.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace slipway {
namespace {

// Written once by the first signal; the main thread reads it. Plain ints and a
// lock-free atomic: all a signal handler may touch.
int wakeFds[2] = {-1, -1};
std::atomic<bool> requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "a signal handler needs a lock-free flag");

void onSignal(int) {
    const int saved = errno;
    if (!requested.exchange(true)) {
        const char byte = 's';
        const ssize_t ignored = ::write(wakeFds[1], &byte, 1);
        (void)ignored;  // the pipe is empty: one byte fits
    } else {
        static const char message[] =
            "Warning slipway: already stopping; running builds go on until builder.stop_timeout\n";
        const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
        (void)ignored;  // nothing to be done in a signal handler about a log that cannot be written
    }
    errno = saved;
}

}  // namespace

StopSignal::StopSignal() {
    if (wakeFds[0] < 0 && ::pipe2(wakeFds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("cannot make the pipe signals wake slipwayd through: ") +
                                 std::strerror(errno));
    }
    struct sigaction action {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    // A read or write the signal lands in goes on instead of failing with EINTR.
    action.sa_flags = SA_RESTART;
    for (const int signal : {SIGTERM, SIGINT, SIGQUIT}) ::sigaction(signal, &action, nullptr);
}

bool StopSignal::requested() const { return slipway::requested; }

void StopSignal::wait() const {
    char byte = 0;
    while (::read(wakeFds[0], &byte, 1) < 0 && errno == EINTR) {
    }
}

}  // namespace slipway
