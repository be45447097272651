#include "daemon/work_tree.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <Poco/File.h>

namespace slipway {
namespace {

void removeIfPresent(const std::string& path) {
    Poco::File file(path);
    if (file.exists()) file.remove(true);
}

}  // namespace

WorkTree::WorkTree(std::string path) : path_(std::move(path)) {}

std::string WorkTree::commit() const {
    std::ifstream note(notePath());
    std::string sha;
    note >> sha;
    // Anything but a full object id is a note cut short: not a known commit.
    return sha.size() == 40 && sha.find_first_not_of("0123456789abcdef") == std::string::npos ? sha : "";
}

void WorkTree::forget() const { removeIfPresent(notePath()); }

void WorkTree::remember(const std::string& sha) const {
    // Written whole, synced, then renamed into place: the note is either
    // absent or names the commit.
    const std::string temporary = notePath() + ".new";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
    const std::string line = sha + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(error));
    if (::rename(temporary.c_str(), notePath().c_str()) != 0) {
        throw std::runtime_error("cannot rename " + temporary + ": " + std::strerror(errno));
    }
}

void WorkTree::clear() const {
    remove();
    Poco::File(path_).createDirectories();
}

void WorkTree::remove() const {
    forget();
    removeIfPresent(indexPath());
    removeIfPresent(path_);
}

}  // namespace slipway
