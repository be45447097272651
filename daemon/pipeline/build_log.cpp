#include "daemon/pipeline/build_log.h"

#include <Poco/File.h>

namespace slipway {

BuildLog::Buffer::Buffer(const std::string& path, std::size_t maxBytes)
    : file_(path, std::ios::binary | std::ios::app), maxBytes_(maxBytes) {
    // A job run again after a restart appends; what is there counts.
    written_ = Poco::File(path).exists() ? static_cast<std::size_t>(Poco::File(path).getSize()) : 0;
}

std::streamsize BuildLog::Buffer::xsputn(const char* s, std::streamsize n) {
    if (truncated_) return n;
    const std::size_t room = written_ < maxBytes_ ? maxBytes_ - written_ : 0;
    const std::size_t take = std::min(room, static_cast<std::size_t>(n));
    file_.write(s, static_cast<std::streamsize>(take));
    written_ += take;
    if (take < static_cast<std::size_t>(n)) {
        truncated_ = true;
        file_ << "\n[slipway: log truncated at " << maxBytes_
              << " bytes (builder.max_log_bytes); the rest of this build's output was dropped]\n";
        file_.flush();
    }
    return n;  // the writer never sees an error: the build goes on
}

int BuildLog::Buffer::overflow(int c) {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = static_cast<char>(c);
    xsputn(&ch, 1);
    return c;
}

int BuildLog::Buffer::sync() {
    file_.flush();
    return 0;
}

BuildLog::BuildLog(const std::string& path, std::size_t maxBytes) : std::ostream(nullptr), buffer_(path, maxBytes) {
    rdbuf(&buffer_);
}

}  // namespace slipway
