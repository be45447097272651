#include "daemon/source/checkout.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/SHA1Engine.h>

#include "daemon/source/submodules.h"

namespace slipway {
namespace {

// .gitmodules is a short list; anything near this is not one.
constexpr std::size_t kMaxGitmodulesBytes = 1024 * 1024;
// Submodules of one checkout, nested ones included: more than projects have,
// few enough that a repository naming itself cannot fetch without end.
constexpr int kMaxSubmodules = 100;

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

std::vector<std::pair<std::string, std::size_t>> Checkout::packMirrors(const std::vector<RepoSettings>& repos,
                                                                       std::size_t threshold) {
    std::vector<std::pair<std::string, std::size_t>> packed;
    for (const RepoSettings& repo : repos) {
        if (!Poco::File(reposDir_ + "/" + repo.alias + ".git").exists()) continue;
        Entry& entry = entryFor(repo.alias);
        std::lock_guard<std::mutex> lock(entry.mutex);
        if (!entry.mirror) {
            entry.mirror = std::make_unique<RepositoryMirror>(reposDir_ + "/" + repo.alias + ".git", repo.url, repo.token);
        }
        if (entry.mirror->looseObjects() <= threshold) continue;
        packed.emplace_back(repo.alias, entry.mirror->packLooseObjects());
    }
    return packed;
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

void Checkout::checkOutSubmodules(Entry& entry, const RepoSettings& repo, RepositoryMirror& mirror,
                                  const std::string& url, const std::string& sha, const std::string& dir,
                                  const std::vector<Gitlink>& links, int depth, int& budget) {
    // Deeper than any real project nests; a loop of repositories would not end.
    constexpr int kMaxDepth = 8;
    if (depth > kMaxDepth) {
        throw SubmoduleError("submodule " + links.front().path + ": nested more than " + std::to_string(kMaxDepth) +
                             " deep");
    }
    std::map<std::string, std::string> urls;
    try {
        urls = submoduleUrls(mirror.readFile(sha, ".gitmodules", kMaxGitmodulesBytes),
                             reposDir_ + "/" + repo.alias + ".git/slipway-gitmodules");
    } catch (const GitError& e) {
        throw SubmoduleError("submodule " + links.front().path + ": no usable .gitmodules (" + e.what() + ")");
    }
    for (const Gitlink& link : links) {
        if (--budget < 0) {
            throw SubmoduleError("submodule " + link.path + ": more than " + std::to_string(kMaxSubmodules) +
                                 " submodules in all");
        }
        const auto found = urls.find(link.path);
        if (found == urls.end()) throw SubmoduleError("submodule " + link.path + ": .gitmodules gives no url for it");
        const std::string moduleUrl = resolveSubmoduleUrl(url, found->second, link.path);
        Poco::SHA1Engine digest;
        digest.update(moduleUrl);
        const std::string modulePath =
            reposDir_ + "/" + repo.alias + ".git/modules/" + Poco::DigestEngine::digestToHex(digest.digest()) + ".git";
        std::unique_ptr<RepositoryMirror>& module = entry.modules[moduleUrl];
        if (!module) module = std::make_unique<RepositoryMirror>(modulePath, moduleUrl, repo.token);
        try {
            module->fetch(link.commit, fetchTimeout_);
        } catch (const GitError& e) {
            throw GitError("submodule " + link.path + " (" + moduleUrl + "): " + e.what(), e.transient());
        }
        const std::string folder = dir + "/" + link.path;
        // Written whole each time (its folder was emptied): the index only
        // serves this checkout, and lives in the submodule's mirror.
        const std::vector<Gitlink> nested = module->checkout(link.commit, folder, modulePath + "/slipway.index", "");
        if (!nested.empty()) {
            checkOutSubmodules(entry, repo, *module, moduleUrl, link.commit, folder, nested, depth + 1, budget);
        }
    }
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
        std::vector<std::string> submodules;
        if (!baseline.empty() && entry.mirror->hasCommit(baseline)) {
            for (const Gitlink& link : entry.mirror->gitlinks(baseline)) submodules.push_back(link.path);
        }
        if (baseline.empty() || !entry.mirror->hasCommit(baseline) || !tree->unchanged(submodules)) {
            tree->clear();
            baseline.clear();
        }
        const std::vector<Gitlink> links = entry.mirror->checkout(sha, tree->path(), tree->indexPath(), baseline);
        if (repo.submodules && !links.empty()) {
            int budget = kMaxSubmodules;
            checkOutSubmodules(entry, repo, *entry.mirror, repo.url, sha, tree->path(), links, 1, budget);
        }
        tree->remember(sha);
    } catch (const Poco::Exception& e) {
        discard(tree);
        throw std::runtime_error(what + e.displayText());
    } catch (const GitError& e) {
        // A submodule's fetch that failed on the network is worth another try.
        discard(tree);
        throw GitError(what + e.what(), e.transient());
    } catch (const std::exception& e) {
        discard(tree);
        throw std::runtime_error(what + e.what());
    }
    return Lease(entry.trees, std::move(*tree), reposDir_ + "/" + repo.alias + ".git", sha);
}

}  // namespace slipway
