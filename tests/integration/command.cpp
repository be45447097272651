#include "tests/integration/command.h"

#include <sstream>

#include <gtest/gtest.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

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

int runWithInput(const std::string& program, const std::vector<std::string>& args, const std::string& input,
                 std::string& output) {
    Poco::Pipe in, out;
    Poco::ProcessHandle handle = Poco::Process::launch(program, args, &in, &out, &out);
    Poco::PipeOutputStream toChild(in);
    toChild << input;
    toChild.close();
    Poco::PipeInputStream fromChild(out);
    std::ostringstream collected;
    collected << fromChild.rdbuf();
    output = collected.str();
    return handle.wait();
}

unsigned short freeLoopbackPort() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    return socket.address().port();
}

}  // namespace slipway::testing
