#pragma once

#include <fstream>
#include <ostream>
#include <streambuf>
#include <string>

namespace slipway {

// A build's log file, capped: past `maxBytes` the rest of the output is
// dropped and one line says so, so that a runaway build cannot fill the disk.
class BuildLog : public std::ostream {
public:
    BuildLog(const std::string& path, std::size_t maxBytes);

private:
    class Buffer : public std::streambuf {
    public:
        Buffer(const std::string& path, std::size_t maxBytes);

    protected:
        int overflow(int c) override;
        std::streamsize xsputn(const char* s, std::streamsize n) override;
        int sync() override;

    private:
        std::ofstream file_;
        std::size_t written_ = 0;
        std::size_t maxBytes_;
        bool truncated_ = false;
    };
    Buffer buffer_;
};

}  // namespace slipway
