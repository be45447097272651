#include "tests/integration/command.h"

#include <sstream>

#include <gtest/gtest.h>
#include <Poco/Net/ServerSocket.h>

#include "backends/process_runner.h"

namespace slipway::testing {

bool tryRun(const std::string& program, const std::vector<std::string>& args, std::string& output) {
    std::ostringstream out;
    const ProcessResult result = runProcess(program, args, out, std::chrono::seconds(300));
    output = out.str();
    return result.exitCode == 0 && !result.timedOut;
}

std::string mustRun(const std::string& program, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env) {
    std::ostringstream out;
    const ProcessResult result = runProcess(program, args, out, std::chrono::seconds(300), env);
    std::string line = program;
    for (const std::string& arg : args) line += " " + arg;
    EXPECT_TRUE(result.exitCode == 0 && !result.timedOut)
        << line << " failed (status " << result.exitCode << "):\n" << out.str();
    return out.str();
}

unsigned short freeLoopbackPort() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    return socket.address().port();
}

}  // namespace slipway::testing
