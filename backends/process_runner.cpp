#include "backends/process_runner.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include <Poco/Environment.h>
#include <Poco/Exception.h>
#include <Poco/Path.h>
#include <Poco/Pipe.h>
#include <Poco/Process.h>

namespace slipway {

void ProcessGroup::killAll() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int pid : children_) {
        try {
            Poco::Process::kill(pid);
        } catch (const Poco::Exception&) {
            // gone already
        }
    }
}

ProcessResult runProcess(const std::string& program, const std::vector<std::string>& args,
                         std::ostream& output, std::chrono::seconds timeout,
                         const std::map<std::string, std::string>& env,
                         const std::optional<std::string>& input, ProcessGroup* group) {
    // Poco reports a failed exec only as exit status 72 from the child: look first.
    Poco::Path found;
    if (!Poco::Path::find(Poco::Environment::get("PATH", "/usr/bin:/bin"), program, found)) {
        throw std::runtime_error("cannot start " + program + ": not found");
    }
    Poco::Pipe outPipe;
    Poco::Pipe inPipe;
    Poco::Process::Env childEnv(env.begin(), env.end());
    std::optional<Poco::ProcessHandle> handle;
    try {
        handle.emplace(Poco::Process::launch(program, args, std::string(), input ? &inPipe : nullptr, &outPipe,
                                             &outPipe, childEnv));
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("cannot start " + program + ": " + e.displayText());
    }
    // The parent's copy of the write end must close, or reading never sees EOF.
    outPipe.close(Poco::Pipe::CLOSE_WRITE);
    inPipe.close(Poco::Pipe::CLOSE_READ);

    // Written from a thread of its own: a child that prints before it reads
    // would otherwise block on a full output pipe while we block on its input.
    std::thread feeder([&] {
        if (!input) return;
        try {
            std::size_t sent = 0;
            while (sent < input->size()) {
                sent += static_cast<std::size_t>(
                    inPipe.writeBytes(input->data() + sent, static_cast<int>(input->size() - sent)));
            }
        } catch (const Poco::Exception&) {
            // The child closed its stdin early; what it says about it reaches `output`.
        }
        inPipe.close(Poco::Pipe::CLOSE_WRITE);
    });

    // A watchdog kills the child at the deadline; reading then ends at EOF.
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    std::atomic<bool> timedOut{false};
    const Poco::ProcessHandle::PID pid = handle->id();
    // A group without children to guard stands in, so that reaping below has one shape.
    ProcessGroup alone;
    ProcessGroup& members = group ? *group : alone;
    {
        std::lock_guard<std::mutex> lock(members.mutex_);
        members.children_.insert(pid);
    }
    // `done` is set under `mutex` in the same breath as the child is reaped, so
    // the watchdog never kills a pid that already belongs to another process.
    std::thread watchdog([&] {
        std::unique_lock<std::mutex> lock(mutex);
        if (!finished.wait_for(lock, timeout, [&] { return done; })) {
            timedOut = true;
            try {
                Poco::Process::kill(pid);
            } catch (const Poco::Exception&) {
                // exited on its own just now
            }
        }
    });

    char buffer[8192];
    int n = 0;
    while ((n = outPipe.readBytes(buffer, sizeof buffer)) > 0) {
        output.write(buffer, n);
        output.flush();
    }
    int code = -1;
    for (;;) {
        {
            // Only this loop takes both locks, so there is no order to get wrong.
            std::lock_guard<std::mutex> children(members.mutex_);
            std::lock_guard<std::mutex> lock(mutex);
            code = handle->tryWait();
            if (code != -1) {
                members.children_.erase(pid);
                done = true;
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    finished.notify_one();
    feeder.join();
    watchdog.join();
    return ProcessResult{code, timedOut.load()};
}

}  // namespace slipway
