#pragma once

#include <iostream>
#include <string>
#include <vector>

namespace slipway::client {

// Exit statuses scripts can rely on.
enum ExitCode {
    kOk = 0,
    kServerRefused = 1,  // slipwayd answered an error (the message says which)
    kUsage = 2,          // the command line is wrong
    kUnreachable = 3,    // slipwayd could not be reached
    kBuildFailed = 4,    // `log -f` followed a build that failed
};

// Runs the `slipway` command line `args` (without the program name), writing
// results to `out` and problems to `err`; returns the exit status.
int runCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace slipway::client
