#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Process.h>

namespace slipway::testing {

// A server a test starts (argv, no shell) in `workDir`, with its stdout and
// stderr copied into `logFile`; asked to stop with SIGTERM and reaped when
// destroyed.
class BackgroundProcess {
public:
    BackgroundProcess(const std::string& program, const std::vector<std::string>& args, const std::string& workDir,
                      const std::string& logFile);
    ~BackgroundProcess();
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    // Sends SIGKILL and reaps the process; the destructor then has nothing left to stop.
    void kill();
    // Sends `signal` (SIGTERM, SIGINT...) and leaves the process be.
    void signal(int signal);
    // Waits for the process to exit by itself and returns its exit code.
    int wait();

    // Everything the process wrote so far.
    std::string output() const;
    int pid() const { return static_cast<int>(handle_->id()); }

private:
    std::string logFile_;
    std::unique_ptr<Poco::ProcessHandle> handle_;
    std::thread drain_;
    bool running_ = true;
};

}  // namespace slipway::testing
