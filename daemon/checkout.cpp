#include "daemon/checkout.h"

#include <Poco/File.h>

namespace slipway {

Checkout::Checkout(std::string reposDir, std::chrono::seconds fetchTimeout)
    : reposDir_(std::move(reposDir)), fetchTimeout_(fetchTimeout) {}

Checkout::Entry& Checkout::entryFor(const std::string& alias) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::unique_ptr<Entry>& entry = entries_[alias];
    if (!entry) entry = std::make_unique<Entry>();
    return *entry;
}

std::vector<std::string> Checkout::pruneMirrors(const std::vector<RepoSettings>& repos) {
    std::vector<std::string> removed;
    Poco::File dir(reposDir_);
    if (!dir.exists()) return removed;
    std::vector<std::string> names;
    dir.list(names);
    for (const std::string& name : names) {
        bool configured = false;
        for (const RepoSettings& repo : repos) configured = configured || name == repo.alias + ".git";
        if (configured) continue;
        Poco::File(reposDir_ + "/" + name).remove(true);
        removed.push_back(name);
    }
    return removed;
}

std::string Checkout::prepare(const RepoSettings& repo, const std::string& sha, const std::string& manifestPath,
                              std::size_t maxManifestBytes, const std::string& dir) {
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
    std::string manifest = entry.mirror->readFile(sha, manifestPath, maxManifestBytes);
    try {
        entry.mirror->checkout(sha, dir);
    } catch (const std::exception& e) {
        throw std::runtime_error(what + e.what());
    }
    return manifest;
}

}  // namespace slipway
