#pragma once

namespace slipway {

// SIGTERM, SIGINT and SIGQUIT, from the moment it is made: the first asks
// slipwayd to stop, whichever thread the kernel hands it to and whatever the
// main thread is doing then; a later one only says in the log that the stop
// is under way. Handlers rather than Poco's waitForTerminationRequest, which
// blocks the signals in the main thread alone and only while it waits: one
// that came earlier (during the start) or later (during the stop) reached
// another thread and ended the process on the spot. Handlers rather than a
// blocked mask, which the docker children would inherit across exec. Make it
// once, before any thread starts.
class StopSignal {
public:
    StopSignal();
    StopSignal(const StopSignal&) = delete;
    StopSignal& operator=(const StopSignal&) = delete;

    // Returns once the first of the signals has come (at once if it came already).
    void wait() const;
    // Whether it has come.
    bool requested() const;
};

}  // namespace slipway
