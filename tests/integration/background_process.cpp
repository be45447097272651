#include "tests/integration/background_process.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include <Poco/Pipe.h>

namespace slipway::testing {

BackgroundProcess::BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                                     const std::string& workDir, const std::string& logFile)
    : logFile_(logFile) {
    Poco::Pipe output;
    handle_ = std::make_unique<Poco::ProcessHandle>(
        Poco::Process::launch(program, args, workDir, nullptr, &output, &output));
    output.close(Poco::Pipe::CLOSE_WRITE);
    drain_ = std::thread([output, logFile]() mutable {
        std::ofstream log(logFile, std::ios::app);  // a restarted process adds to it
        char buffer[4096];
        int n = 0;
        while ((n = output.readBytes(buffer, sizeof buffer)) > 0) log.write(buffer, n).flush();
    });
}

BackgroundProcess::~BackgroundProcess() {
    if (running_) {
        Poco::Process::requestTermination(handle_->id());
        handle_->wait();
    }
    drain_.join();
}

void BackgroundProcess::kill() {
    Poco::Process::kill(*handle_);
    handle_->wait();
    running_ = false;
}

void BackgroundProcess::signal(int signal) { ::kill(handle_->id(), signal); }

int BackgroundProcess::wait() {
    const int code = handle_->wait();
    running_ = false;
    return code;
}

std::string BackgroundProcess::output() const {
    std::ifstream in(logFile_);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace slipway::testing
