#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/source/git_handles.h"

namespace slipway {

// The Git tree id (40 hex digits) of folder `folder` in commit `sha` of the
// repository at `path`, read through a handle of its own, so that it needs
// no lock on a mirror another job may be fetching into: the commit's objects
// are already there and are never rewritten. Throws GitError when the
// commit is missing or `folder` is not a folder in it.
std::string folderTreeId(const std::string& path, const std::string& sha, const std::string& folder);

// A submodule as its repository's tree records it: a gitlink, the commit of
// another repository at a path.
struct Gitlink {
    std::string path;    // relative to the repository's root
    std::string commit;  // 40 hex digits
};

// A bare mirror of one configured repository under state_dir/repos/, fetched
// incrementally. Not thread-safe: one job at a time uses a mirror (see Checkout).
class RepositoryMirror {
public:
    // Opens the mirror at `path`, creating it as a bare repository if needed.
    // `url` comes from the configuration, never from a payload; `token`, when not
    // empty, authenticates HTTPS fetches as GitHub's x-access-token.
    RepositoryMirror(std::string path, std::string url, std::string token);

    // Makes sure commit `sha` is in the mirror: from a file:// repository, by
    // copying the objects it adds (see copyFromLocalRepository); else fetches
    // that object first, then every branch and pull request ref when the
    // server will not serve it alone, all of it within `timeout`, whatever the
    // server does. Throws GitError when the commit cannot be had (transient
    // when the server could not be reached, failed or was too slow).
    void fetch(const std::string& sha, std::chrono::seconds timeout);

    // The content of the file at `path` in commit `sha`, at most `maxBytes`.
    // Throws GitError naming the path when it is missing, not a regular file, or too big.
    std::string readFile(const std::string& sha, const std::string& path, std::size_t maxBytes);

    // Whether the mirror has commit `sha`.
    bool hasCommit(const std::string& sha);

    // The gitlinks (submodules) in the tree of commit `sha`, in tree order.
    std::vector<Gitlink> gitlinks(const std::string& sha);

    // Makes folder `dir` hold exactly the tree of commit `sha`, keeping its
    // index in `indexPath`, and returns the commit's gitlinks. Each becomes an
    // empty folder, as in GitHub's archives: the submodule's own commit is in
    // another repository. `baseline` is the commit whose tree `dir` holds,
    // just as that index says (see WorkTree::unchanged): only the files that
    // differ between the two are written or removed. With no baseline, `dir`
    // must be empty.
    std::vector<Gitlink> checkout(const std::string& sha, const std::string& dir, const std::string& indexPath,
                                  const std::string& baseline);

    // Objects lying loose in the mirror (one file each): the local copy and
    // the checkout's trees write them; fetches write packs.
    std::size_t looseObjects() const;
    // Writes every loose object into one new pack and removes the loose
    // files: a mirror with thousands of them is slow to read and large on
    // disk. Nothing is dropped, reachable or not (a job may be reading any).
    // Returns how many were packed.
    std::size_t packLooseObjects();

private:
    // Objects a local copy may write before it gives way to a fetch.
    static constexpr std::size_t kMaxCopiedObjects = 20000;

    bool hasCommit(const git_oid& oid);
    // Whether the mirror has any reference: a fetch filled it before.
    bool hasReferences();
    // Points refs/slipway/fetched at the commit just fetched, so that the
    // mirror has a reference (see hasReferences) however it got the commit.
    void remember(const git_oid& oid);
    // Fetches `refspecs`, giving up at `deadline` (`timeout` after the fetch began).
    void fetchRefspecs(const std::vector<std::string>& refspecs, std::chrono::steady_clock::time_point deadline,
                       std::chrono::seconds timeout);
    GitTree treeOf(const std::string& sha);
    // The tree of commit `sha` without its gitlinks, which it lists in
    // `gitlinks`: libgit2 cannot check a gitlink out of a bare repository
    // into a folder of its own. The tree itself when it has none; otherwise
    // one written for the purpose (only the folders on the way to a gitlink).
    GitTree treeWithoutGitlinks(const std::string& sha, std::vector<Gitlink>& gitlinks);

    std::string path_;
    std::string url_;
    std::string token_;
    GitRepository repo_;
    // Made once and kept: libgit2 1.5 with PCRE2 leaks each time it makes a
    // remote (its config regex match data), so memory grew with every job
    // (bench/README.md has the figures). One remote serves every fetch.
    GitRemote remote_;
};

}  // namespace slipway
