#include "daemon/checkout.h"

#include <algorithm>
#include <set>

#include <Poco/File.h>

namespace slipway {
namespace {

// The number a work tree's files are named after ("3" for 3, 3.index, 3.commit), or -1.
long treeNumber(const std::string& name) {
    const std::string digits = name.substr(0, name.find('.'));
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stol(digits);
}

std::vector<std::string> namesIn(const std::string& path) {
    std::vector<std::string> names;
    Poco::File dir(path);
    if (dir.exists()) dir.list(names);
    return names;
}

}  // namespace

Checkout::Checkout(std::string reposDir, std::string workDir, std::chrono::seconds fetchTimeout)
    : reposDir_(std::move(reposDir)), workDir_(std::move(workDir)), fetchTimeout_(fetchTimeout) {}

Checkout::Lease::Lease(Entry& entry, WorkTree tree) : entry_(&entry), tree_(std::move(tree)) {}

Checkout::Lease::Lease(Lease&& other) noexcept : entry_(other.entry_), tree_(std::move(other.tree_)) {
    other.entry_ = nullptr;
}

Checkout::Lease::~Lease() {
    if (!entry_) return;
    std::lock_guard<std::mutex> lock(entry_->poolMutex);
    entry_->idle.push_back(std::move(tree_));
}

Checkout::Entry& Checkout::entryFor(const std::string& alias) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::unique_ptr<Entry>& entry = entries_[alias];
    if (!entry) entry = std::make_unique<Entry>();
    return *entry;
}

WorkTree Checkout::takeTree(Entry& entry, const std::string& alias, const std::string& sha) {
    const std::string dir = workDir_ + "/" + alias;
    std::lock_guard<std::mutex> lock(entry.poolMutex);
    if (!entry.scanned) {
        // Work trees a previous run left are kept when their note names a
        // commit; everything else there (a checkout cut short) goes.
        std::set<long> kept;
        for (const std::string& name : namesIn(dir)) {
            const long number = treeNumber(name);
            if (number >= 0 && name == std::to_string(number) && !WorkTree(dir + "/" + name).commit().empty()) {
                kept.insert(number);
                entry.idle.emplace_back(dir + "/" + name);
            }
            entry.next = std::max<unsigned>(entry.next, static_cast<unsigned>(number + 1));
        }
        for (const std::string& name : namesIn(dir)) {
            if (!kept.count(treeNumber(name))) Poco::File(dir + "/" + name).remove(true);
        }
        entry.scanned = true;
    }
    // The tree already at `sha` (a retry) writes nothing; else the one given
    // back last, most likely the closest commit.
    auto found = std::find_if(entry.idle.begin(), entry.idle.end(),
                              [&](const WorkTree& tree) { return tree.commit() == sha; });
    if (found == entry.idle.end() && !entry.idle.empty()) found = entry.idle.end() - 1;
    if (found == entry.idle.end()) return WorkTree(dir + "/" + std::to_string(entry.next++));
    WorkTree tree = std::move(*found);
    entry.idle.erase(found);
    return tree;
}

std::vector<std::string> Checkout::pruneMirrors(const std::vector<RepoSettings>& repos) {
    auto configured = [&](const std::string& alias) {
        return std::any_of(repos.begin(), repos.end(), [&](const RepoSettings& repo) { return repo.alias == alias; });
    };
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
    WorkTree tree = takeTree(entry, repo.alias, sha);
    try {
        std::string baseline = tree.commit();
        tree.forget();
        if (baseline.empty() || !entry.mirror->hasCommit(baseline)) {
            tree.clear();
            baseline.clear();
        }
        if (!entry.mirror->checkout(sha, tree.path(), tree.indexPath(), baseline)) {
            // Something changed the folder behind slipwayd's back: no file of it is trusted.
            tree.clear();
            entry.mirror->checkout(sha, tree.path(), tree.indexPath(), "");
        }
        tree.remember(sha);
    } catch (const std::exception& e) {
        try {
            tree.remove();  // its state is unknown: the next job starts a new one
        } catch (const std::exception&) {
        }
        throw std::runtime_error(what + e.what());
    }
    return Lease(entry, std::move(tree));
}

}  // namespace slipway
