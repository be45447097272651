#pragma once

#include <chrono>
#include <map>
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

// Runs `program` with `args` (an argv vector, never a shell), adding `env` to the
// inherited environment. Its stdout and stderr, interleaved, go to `output` as
// they come. With `input`, its stdin is a pipe that receives `input` and then
// closes (how a secret reaches a child without showing up in its argv);
// without, it inherits ours. A child still running after `timeout` is killed
// and reported as timed out. Throws std::runtime_error when the program cannot
// be started.
ProcessResult runProcess(const std::string& program, const std::vector<std::string>& args,
                         std::ostream& output, std::chrono::seconds timeout,
                         const std::map<std::string, std::string>& env = {},
                         const std::optional<std::string>& input = std::nullopt);

// Kills (SIGKILL) every child a runProcess call is waiting for, so that those
// calls return at once. For a stop that cannot wait for running builds.
void killRunningChildren();

}  // namespace slipway
