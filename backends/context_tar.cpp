#include "backends/context_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "backends/docker_ignore.h"

namespace slipway {
namespace {

struct ArchiveWriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
struct DirClose {
    void operator()(DIR* d) const { ::closedir(d); }
};

// An open file descriptor, closed when it goes.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

std::string lastError() { return std::error_code(errno, std::generic_category()).message(); }

la_ssize_t writeToStream(archive* a, void* client, const void* buffer, size_t length) {
    auto* out = static_cast<std::ostream*>(client);
    out->write(static_cast<const char*>(buffer), static_cast<std::streamsize>(length));
    if (!*out) {
        archive_set_error(a, EIO, "the stream it goes to failed");
        return -1;
    }
    return static_cast<la_ssize_t>(length);
}

class ContextWriter {
public:
    ContextWriter(std::string root, DockerIgnore ignore, std::ostream& out)
        : root_(std::move(root)), ignore_(std::move(ignore)), archive_(archive_write_new()) {
        if (!archive_) throw std::runtime_error("libarchive: out of memory");
        check(archive_write_set_format_pax_restricted(archive_.get()), "start the context tar");
        check(archive_write_open(archive_.get(), &out, nullptr, writeToStream, nullptr), "start the context tar");
    }

    // Adds the entries inside folder `relative` ("" for the root), in name order.
    void addFolder(const std::string& relative) {
        const std::string path = relative.empty() ? root_ : root_ + "/" + relative;
        std::vector<std::string> names;
        {
            std::unique_ptr<DIR, DirClose> dir(::opendir(path.c_str()));
            if (!dir) fail(relative.empty() ? "." : relative, "cannot list", lastError());
            while (const dirent* entry = ::readdir(dir.get())) {
                const std::string name = entry->d_name;
                if (name != "." && name != "..") names.push_back(name);
            }
        }
        std::sort(names.begin(), names.end());
        for (const std::string& name : names) {
            const std::string child = relative.empty() ? name : relative + "/" + name;
            struct stat info {};
            if (::lstat((root_ + "/" + child).c_str(), &info) != 0) fail(child, "cannot stat", lastError());
            const bool excluded = ignore_.excludes(child);
            if (S_ISDIR(info.st_mode)) {
                if (!excluded) addHeader(child, info, AE_IFDIR);
                if (!excluded || ignore_.mayReinclude(child)) addFolder(child);
            } else if (excluded) {
                continue;
            } else if (S_ISLNK(info.st_mode)) {
                addSymlink(child, info);
            } else if (S_ISREG(info.st_mode)) {
                addFile(child);
            } else {
                fail(child, "cannot send", "it is neither a file, a folder nor a symbolic link");
            }
        }
    }

    void finish() { check(archive_write_close(archive_.get()), "finish the context tar"); }

private:
    [[noreturn]] void fail(const std::string& relative, const std::string& what, const std::string& why) const {
        throw std::runtime_error(what + " " + relative + " in " + root_ + ": " + why);
    }

    void check(int status, const std::string& what) const {
        if (status < ARCHIVE_WARN) {
            throw std::runtime_error("cannot " + what + ": libarchive: " + archive_error_string(archive_.get()));
        }
    }

    std::unique_ptr<archive_entry, ArchiveEntryFree> entryFor(const std::string& relative, const struct stat& info,
                                                              unsigned type) const {
        std::unique_ptr<archive_entry, ArchiveEntryFree> entry(archive_entry_new());
        if (!entry) throw std::runtime_error("libarchive: out of memory");
        archive_entry_set_pathname(entry.get(), relative.c_str());
        archive_entry_set_filetype(entry.get(), type);
        archive_entry_set_perm(entry.get(), info.st_mode & 07777);
        archive_entry_set_mtime(entry.get(), info.st_mtim.tv_sec, info.st_mtim.tv_nsec);
        // As the docker CLI sends them: what the checkout's owner is means nothing in the image.
        archive_entry_set_uid(entry.get(), 0);
        archive_entry_set_gid(entry.get(), 0);
        return entry;
    }

    void addHeader(const std::string& relative, const struct stat& info, unsigned type) {
        auto entry = entryFor(relative, info, type);
        check(archive_write_header(archive_.get(), entry.get()), "archive " + relative);
    }

    void addSymlink(const std::string& relative, const struct stat& info) {
        std::string target(static_cast<std::size_t>(info.st_size) + 1, '\0');
        const ssize_t n = ::readlink((root_ + "/" + relative).c_str(), target.data(), target.size());
        if (n < 0) fail(relative, "cannot read the link", lastError());
        if (static_cast<std::size_t>(n) >= target.size()) fail(relative, "cannot read the link", "it changed");
        target.resize(static_cast<std::size_t>(n));
        auto entry = entryFor(relative, info, AE_IFLNK);
        archive_entry_set_symlink(entry.get(), target.c_str());
        check(archive_write_header(archive_.get(), entry.get()), "archive " + relative);
    }

    void addFile(const std::string& relative) {
        // O_NOFOLLOW: should the file have become a link since lstat, it is not followed.
        FileDescriptor file(::open((root_ + "/" + relative).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (file.get() < 0) fail(relative, "cannot open", lastError());
        // The header's size and the bytes written must agree: both come from this open file.
        struct stat info {};
        if (::fstat(file.get(), &info) != 0) fail(relative, "cannot stat", lastError());
        auto entry = entryFor(relative, info, AE_IFREG);
        archive_entry_set_size(entry.get(), info.st_size);
        check(archive_write_header(archive_.get(), entry.get()), "archive " + relative);
        char buffer[65536];
        la_int64_t left = info.st_size;
        while (left > 0) {
            const ssize_t n = ::read(file.get(), buffer, static_cast<size_t>(std::min<la_int64_t>(left, sizeof buffer)));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail(relative, "cannot read", lastError());
            if (n == 0) fail(relative, "cannot read", "it shrank while it was being sent");
            if (archive_write_data(archive_.get(), buffer, static_cast<size_t>(n)) != n) {
                check(ARCHIVE_FATAL, "archive " + relative);
            }
            left -= n;
        }
    }

    std::string root_;
    DockerIgnore ignore_;
    std::unique_ptr<archive, ArchiveWriteFree> archive_;
};

// The context's .dockerignore; empty when it has none. A link is not followed.
std::string readDockerIgnore(const std::string& dir) {
    const std::string path = dir + "/.dockerignore";
    FileDescriptor file(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (file.get() < 0) {
        if (errno == ENOENT) return {};
        throw std::runtime_error("cannot read " + path + ": " +
                                 (errno == ELOOP ? std::string("it is a symbolic link") : lastError()));
    }
    std::string text;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(file.get(), buffer, sizeof buffer)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error("cannot read " + path + ": " + lastError());
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

}  // namespace

void writeContextTar(const std::string& dir, const std::string& dockerfile, std::ostream& out) {
    DockerIgnore ignore(readDockerIgnore(dir));
    ignore.alwaysInclude(dockerfile);
    ignore.alwaysInclude(".dockerignore");
    ContextWriter writer(dir, std::move(ignore), out);
    writer.addFolder("");
    writer.finish();
}

}  // namespace slipway
