#include "daemon/source/work_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <system_error>

#include <Poco/File.h>

#include "daemon/source/git_handles.h"

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

bool WorkTree::unchanged(const std::vector<std::string>& gitlinks) const {
    git_index* opened = nullptr;
    if (git_index_open(&opened, indexPath().c_str()) < 0) return false;
    const GitIndex index(opened);
    const std::size_t count = git_index_entrycount(index.get());
    std::set<std::string> folders;  // every folder the listed files and the submodules are in
    const auto addFolders = [&folders](const std::string& relative) {
        for (std::size_t slash = relative.find('/'); slash != std::string::npos; slash = relative.find('/', slash + 1)) {
            folders.insert(relative.substr(0, slash));
        }
    };
    const std::set<std::string> submodules(gitlinks.begin(), gitlinks.end());
    for (const std::string& link : gitlinks) addFolders(link);
    for (std::size_t i = 0; i < count; ++i) {
        const git_index_entry* entry = git_index_get_byindex(index.get(), i);
        const std::string relative = entry->path;
        addFolders(relative);
        struct stat info {};
        if (::lstat((path_ + "/" + relative).c_str(), &info) != 0) return false;
        const bool link = (entry->mode & 0170000) == 0120000;
        const bool sameType = link ? S_ISLNK(info.st_mode) : S_ISREG(info.st_mode);
        if (!sameType || static_cast<std::uint32_t>(info.st_size) != entry->file_size ||
            static_cast<std::uint32_t>(info.st_ino) != entry->ino ||
            static_cast<std::int32_t>(info.st_mtim.tv_sec) != entry->mtime.seconds ||
            static_cast<std::uint32_t>(info.st_mtim.tv_nsec) != entry->mtime.nanoseconds) {
            return false;
        }
    }
    // Nothing else: every file is one listed (all were found above), every folder holds one.
    std::size_t files = 0;
    std::error_code error;
    for (std::filesystem::recursive_directory_iterator it(path_, error), end; !error && it != end; it.increment(error)) {
        if (it->is_directory(error) && !it->is_symlink(error)) {
            const std::string relative = it->path().lexically_relative(path_).string();
            if (submodules.count(relative)) {
                it.disable_recursion_pending();
            } else if (!folders.count(relative)) {
                return false;
            }
        } else {
            ++files;
        }
    }
    return !error && files == count;
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
    // The rename itself is durable once the folder holding the note is synced.
    const std::string parent = notePath().substr(0, notePath().rfind('/'));
    const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || ::fsync(dir) != 0) {
        const int failure = errno;
        if (dir >= 0) ::close(dir);
        throw std::runtime_error("cannot sync " + parent + ": " + std::strerror(failure));
    }
    ::close(dir);
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
