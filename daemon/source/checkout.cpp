#include "daemon/source/checkout.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include <Poco/Exception.h>
#include <Poco/File.h>

namespace slipway {
namespace {

std::vector<std::string> namesIn(const std::string& path) {
    std::vector<std::string> names;
    Poco::File dir(path);
    if (dir.exists()) dir.list(names);
    return names;
}

// A work tree whose checkout failed: its state is unknown, so it goes, and
// the next job starts a new one.
void discard(const std::optional<WorkTree>& tree) {
    if (!tree) return;
    try {
        tree->remove();
    } catch (const std::exception&) {
        // What is left has no note: the next start removes it.
    }
}

}  // namespace

Checkout::Checkout(std::string reposDir, std::string workDir, std::chrono::seconds fetchTimeout)
    : reposDir_(std::move(reposDir)), workDir_(std::move(workDir)), fetchTimeout_(fetchTimeout) {}

Checkout::Lease::Lease(WorkTreePool& pool, WorkTree tree, std::string mirrorPath, std::string sha)
    : pool_(&pool), tree_(std::move(tree)), mirrorPath_(std::move(mirrorPath)), sha_(std::move(sha)) {}

Checkout::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_),
      tree_(std::move(other.tree_)),
      mirrorPath_(std::move(other.mirrorPath_)),
      sha_(std::move(other.sha_)) {
    other.pool_ = nullptr;
}

std::string Checkout::Lease::folderTree(const std::string& folder) const {
    return folderTreeId(mirrorPath_, sha_, folder);
}

Checkout::Lease::~Lease() {
    if (pool_) pool_->giveBack(std::move(tree_));
}

Checkout::Entry& Checkout::entryFor(const std::string& alias) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::unique_ptr<Entry>& entry = entries_[alias];
    if (!entry) entry = std::make_unique<Entry>(workDir_ + "/" + alias);
    return *entry;
}

std::vector<std::string> Checkout::pruneUnconfigured(const std::vector<RepoSettings>& repos) {
    auto configured = [&](const std::string& alias) { return repoByAlias(repos, alias) != nullptr; };
    std::vector<std::string> removed;
    for (const std::string& name : namesIn(reposDir_)) {
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".git") == 0 &&
            configured(name.substr(0, name.size() - 4))) {
            continue;
        }
        Poco::File(reposDir_ + "/" + name).remove(true);
        removed.push_back(name);
    }
    for (const std::string& name : namesIn(workDir_)) {
        if (!configured(name)) Poco::File(workDir_ + "/" + name).remove(true);
    }
    return removed;
}

std::vector<std::string> Checkout::removeStaleLocks() {
    auto isLock = [](const std::string& name, const std::string& suffix) {
        return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    std::vector<std::string> stale;
    for (const std::string& name : namesIn(reposDir_)) {
        const Poco::File mirror(reposDir_ + "/" + name);
        if (mirror.isLink() || !mirror.isDirectory()) continue;
        // std::filesystem's walk never enters a linked folder: nothing outside the mirror is looked at.
        for (const auto& item : std::filesystem::recursive_directory_iterator(mirror.path())) {
            if (item.is_symlink() || !item.is_regular_file()) continue;
            if (isLock(item.path().filename().string(), ".lock")) {
                stale.push_back(item.path().string());
            }
        }
    }
    // Beside each work tree, never inside: <n>.index.lock.
    for (const std::string& alias : namesIn(workDir_)) {
        for (const std::string& name : namesIn(workDir_ + "/" + alias)) {
            if (isLock(name, ".index.lock")) stale.push_back(workDir_ + "/" + alias + "/" + name);
        }
    }
    for (const std::string& path : stale) Poco::File(path).remove();
    return stale;
}

Checkout::Lease Checkout::prepare(const RepoSettings& repo, const std::string& sha, const std::string& manifestPath,
                                  std::size_t maxManifestBytes, std::string& manifest) {
    Entry& entry = entryFor(repo.alias);
    std::lock_guard<std::mutex> lock(entry.mutex);
    const std::string what = "checkout of " + sha.substr(0, 12) + " from " + repo.alias + ": ";
    try {
        if (!entry.mirror) {
            entry.mirror = std::make_unique<RepositoryMirror>(reposDir_ + "/" + repo.alias + ".git",
                                                              repo.url, repo.token);
        }
        entry.mirror->fetch(sha, fetchTimeout_);
    } catch (const GitError& e) {
        throw GitError(what + e.what(), e.transient());
    } catch (const std::exception& e) {
        throw std::runtime_error(what + e.what());
    }
    // Its own message names the file and the commit, which is what a user needs.
    manifest = entry.mirror->readFile(sha, manifestPath, maxManifestBytes);
    std::optional<WorkTree> tree;
    try {
        tree.emplace(entry.trees.take(sha));
        std::string baseline = tree->commit();
        tree->forget();
        // A folder changed behind slipwayd's back is written whole: libgit2
        // would keep a changed file, and write through a file made a link.
        if (baseline.empty() || !entry.mirror->hasCommit(baseline) || !tree->unchanged()) {
            tree->clear();
            baseline.clear();
        }
        entry.mirror->checkout(sha, tree->path(), tree->indexPath(), baseline);
        tree->remember(sha);
    } catch (const Poco::Exception& e) {
        discard(tree);
        throw std::runtime_error(what + e.displayText());
    } catch (const std::exception& e) {
        discard(tree);
        throw std::runtime_error(what + e.what());
    }
    return Lease(entry.trees, std::move(*tree), reposDir_ + "/" + repo.alias + ".git", sha);
}

}  // namespace slipway
