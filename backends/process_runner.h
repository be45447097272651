#pragma once

#include <chrono>
#include <map>
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
// they come. A child still running after `timeout` is killed and reported as
// timed out. Throws std::runtime_error when the program cannot be started.
ProcessResult runProcess(const std::string& program, const std::vector<std::string>& args,
                         std::ostream& output, std::chrono::seconds timeout,
                         const std::map<std::string, std::string>& env = {});

}  // namespace slipway
