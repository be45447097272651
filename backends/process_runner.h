#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace slipway {

// How a child process ended.
struct ProcessResult {
    int exitCode = -1;
    bool timedOut = false;
};

// The children of the runProcess calls given this group, so that they can be
// killed together: a backend's docker commands when slipwayd stops. Thread-safe.
class ProcessGroup {
public:
    // Kills (SIGKILL) every child of the group running now, so that their
    // runProcess calls return at once.
    void killAll();

private:
    friend ProcessResult runProcess(const std::string&, const std::vector<std::string>&, std::ostream&,
                                    std::chrono::seconds, const std::map<std::string, std::string>&,
                                    const std::optional<std::string>&, ProcessGroup*);
    std::mutex mutex_;
    std::set<int> children_;  // pids; a pid leaves under mutex_ in the breath it is reaped
};

// Runs `program` with `args` (an argv vector, never a shell), adding `env` to the
// inherited environment. Its stdout and stderr, interleaved, go to `output` as
// they come. With `input`, its stdin is a pipe that receives `input` and then
// closes (how a secret reaches a child without showing up in its argv);
// without, it inherits ours. A child still running after `timeout` is killed
// and reported as timed out. With `group`, the child is one of its children
// while it runs. Throws std::runtime_error when the program cannot be started.
ProcessResult runProcess(const std::string& program, const std::vector<std::string>& args,
                         std::ostream& output, std::chrono::seconds timeout,
                         const std::map<std::string, std::string>& env = {},
                         const std::optional<std::string>& input = std::nullopt, ProcessGroup* group = nullptr);

}  // namespace slipway
