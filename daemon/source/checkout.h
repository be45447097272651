#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/config/settings.h"
#include "daemon/source/repository_mirror.h"
#include "daemon/source/work_tree.h"
#include "daemon/source/work_tree_pool.h"

namespace slipway {

// Hands out the cached mirror of each configured repository, one job at a
// time per repository, so that concurrent jobs never fetch into the same
// mirror; and the work trees jobs build from, kept between jobs so that a new
// commit rewrites only the files it changes.
class Checkout {
public:
    // Mirrors live in `reposDir`, one bare repository per alias; work trees in
    // `workDir`/<alias>/<n>, as many per repository as it has jobs running at once.
    Checkout(std::string reposDir, std::string workDir, std::chrono::seconds fetchTimeout);

    // A work tree lent to one job; its repository's pool gets it back when the lease ends.
    class Lease {
    public:
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();

        // The folder holding the commit's tree.
        const std::string& path() const { return tree_.path(); }

        // The Git tree id of `folder` in the commit (see folderTreeId).
        std::string folderTree(const std::string& folder) const;

    private:
        friend class Checkout;
        Lease(WorkTreePool& pool, WorkTree tree, std::string mirrorPath, std::string sha);

        WorkTreePool* pool_;
        WorkTree tree_;
        std::string mirrorPath_;
        std::string sha_;
    };

    // Fetches commit `sha` of `repo`, sets `manifest` to the content of
    // `manifestPath` at that commit, and lends a work tree holding exactly that
    // commit's tree: its submodules checked out too with `repo.submodules`,
    // else each an empty folder. Throws std::runtime_error saying which step failed on
    // what (a GitError, transient or not, when the fetch failed).
    Lease prepare(const RepoSettings& repo, const std::string& sha, const std::string& manifestPath,
                  std::size_t maxManifestBytes, std::string& manifest);

    // Removes the mirrors and work trees of repositories that are no longer in
    // `repos`, and anything else in the work folder; returns the mirrors' names.
    std::vector<std::string> pruneUnconfigured(const std::vector<RepoSettings>& repos);

    // Packs the loose objects of each mirror that has more than `threshold`
    // (see RepositoryMirror::packLooseObjects), one repository at a time and
    // under its lock, so no job of it fetches meanwhile. Returns, for each
    // mirror packed, its alias and how many objects it packed.
    std::vector<std::pair<std::string, std::size_t>> packMirrors(const std::vector<RepoSettings>& repos,
                                                                 std::size_t threshold);

    // Removes the lock files a process killed in the middle of a write left
    // behind (libgit2's <file>.lock in a mirror, a work tree's index lock),
    // which would fail every later fetch or checkout of that repository.
    // Only at start, while the state folder's lock is held: then no other
    // process writes there. Files of the repositories themselves (a
    // Cargo.lock in a work tree) are never touched. Returns what it removed.
    std::vector<std::string> removeStaleLocks();

private:
    struct Entry {
        explicit Entry(std::string workDir) : trees(std::move(workDir)) {}
        std::mutex mutex;  // the mirror: one fetch and checkout at a time
        std::unique_ptr<RepositoryMirror> mirror;
        // Mirrors of its submodules' repositories (repos/<alias>.git/modules/), by URL.
        std::map<std::string, std::unique_ptr<RepositoryMirror>> modules;
        WorkTreePool trees;  // its own lock: a job ending never waits for another's fetch
    };
    Entry& entryFor(const std::string& alias);

    // Fetches and checks out each of `links`, gitlinks of commit `sha` of
    // `mirror` (whose repository is at `url`), into its folder under `dir`,
    // and theirs in turn, at most `budget` submodules in all (counted down).
    // The caller holds the entry's lock.
    void checkOutSubmodules(Entry& entry, const RepoSettings& repo, RepositoryMirror& mirror, const std::string& url,
                            const std::string& sha, const std::string& dir, const std::vector<Gitlink>& links,
                            int depth, int& budget);

    std::string reposDir_;
    std::string workDir_;
    std::chrono::seconds fetchTimeout_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace slipway
