#include "daemon/stderr_channel.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace slipway {

void StderrChannel::log(const Poco::Message& message) {
    std::string line = message.getText();
    line += '\n';
    const char* data = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t written = ::write(STDERR_FILENO, data, left);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;  // a log line has nowhere else to go
        data += written;
        left -= static_cast<std::size_t>(written);
    }
}

}  // namespace slipway
