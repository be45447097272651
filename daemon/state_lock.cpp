#include "daemon/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace slipway {

StateLock::StateLock(const std::string& stateDir) {
    const std::string path = stateDir + "/slipway.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    // flock is released by the kernel when the process dies, however it dies.
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error(error == EWOULDBLOCK
                                     ? "another slipwayd is using " + stateDir + " (" + path + " is locked)"
                                     : "cannot lock " + path + ": " + std::strerror(error));
    }
}

StateLock::~StateLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace slipway
