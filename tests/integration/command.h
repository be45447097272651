#pragma once

#include <map>
#include <string>
#include <vector>

namespace slipway::testing {

// Runs `program` with `args` (argv, no shell) and returns its output; fails
// the test with the output when it does not exit 0.
std::string mustRun(const std::string& program, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {});

// Runs `program` and returns whether it exited 0, keeping its output in `output`.
bool tryRun(const std::string& program, const std::vector<std::string>& args, std::string& output);

// Runs `program` with `input` on its stdin; returns its exit status and keeps
// its stdout and stderr in `output`.
int runWithInput(const std::string& program, const std::vector<std::string>& args, const std::string& input,
                 std::string& output);

// A TCP port on 127.0.0.1 that nothing listens on right now.
unsigned short freeLoopbackPort();

}  // namespace slipway::testing
