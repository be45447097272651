#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <git2.h>

#include "daemon/source/fetch_deadline.h"

namespace slipway {

// Owners of libgit2 handles: each is freed exactly once, on every path.
template <typename T, void (*Free)(T*)>
struct GitDeleter {
    void operator()(T* handle) const { Free(handle); }
};
using GitRepository = std::unique_ptr<git_repository, GitDeleter<git_repository, git_repository_free>>;
using GitRemote = std::unique_ptr<git_remote, GitDeleter<git_remote, git_remote_free>>;
using GitCommit = std::unique_ptr<git_commit, GitDeleter<git_commit, git_commit_free>>;
using GitTree = std::unique_ptr<git_tree, GitDeleter<git_tree, git_tree_free>>;
using GitTreeBuilder = std::unique_ptr<git_treebuilder, GitDeleter<git_treebuilder, git_treebuilder_free>>;
using GitPackBuilder = std::unique_ptr<git_packbuilder, GitDeleter<git_packbuilder, git_packbuilder_free>>;
using GitTreeEntry = std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry, git_tree_entry_free>>;
using GitBlob = std::unique_ptr<git_blob, GitDeleter<git_blob, git_blob_free>>;
using GitOdb = std::unique_ptr<git_odb, GitDeleter<git_odb, git_odb_free>>;
using GitOdbObject = std::unique_ptr<git_odb_object, GitDeleter<git_odb_object, git_odb_object_free>>;
using GitReference = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using GitTag = std::unique_ptr<git_tag, GitDeleter<git_tag, git_tag_free>>;
using GitIndex = std::unique_ptr<git_index, GitDeleter<git_index, git_index_free>>;

// Keeps libgit2 initialised for as long as it lives.
class GitLibrary {
public:
    GitLibrary() {
        git_libgit2_init();
        // Objects are hashed when they enter a mirror (a fetch's pack is
        // indexed, a copied object is written by its content) and zlib's
        // checksum still guards each one read. Hashing every object again on
        // every read, as libgit2 does by default, was the largest cost of a
        // checkout (bench/README.md, Checkout); git does not do it either.
        git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
        registerDeadlineSockets();
    }
    ~GitLibrary() { git_libgit2_shutdown(); }
    GitLibrary(const GitLibrary&) = delete;
    GitLibrary& operator=(const GitLibrary&) = delete;
};

// A libgit2 call that failed; what() is `what` followed by libgit2's own
// message. `transient` is set for network, HTTP and TLS failures, which are
// worth another try.
class GitError : public std::runtime_error {
public:
    explicit GitError(const std::string& message, bool transient = false)
        : std::runtime_error(message), transient_(transient) {}
    bool transient() const { return transient_; }

private:
    bool transient_;
};

// Throws GitError("<what>: libgit2: <reason>") when `code` is negative.
void checkGit(int code, const std::string& what);

}  // namespace slipway
