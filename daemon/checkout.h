#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/repository_mirror.h"
#include "daemon/settings.h"

namespace slipway {

// Hands out the cached mirror of each configured repository, one job at a time
// per repository, so that concurrent jobs never fetch into the same mirror.
class Checkout {
public:
    // Mirrors live in `reposDir`, one bare repository per alias.
    Checkout(std::string reposDir, std::chrono::seconds fetchTimeout);

    // Fetches commit `sha` of `repo`, returns the content of `manifestPath` at
    // that commit, and writes the commit's tree into the empty folder `dir`.
    // Throws std::runtime_error saying which step failed on what (a GitError,
    // transient or not, when the fetch failed).
    std::string prepare(const RepoSettings& repo, const std::string& sha, const std::string& manifestPath,
                        std::size_t maxManifestBytes, const std::string& dir);

    // Removes the mirrors of repositories that are no longer in `repos`; returns their names.
    std::vector<std::string> pruneMirrors(const std::vector<RepoSettings>& repos);

private:
    struct Entry {
        std::mutex mutex;
        std::unique_ptr<RepositoryMirror> mirror;
    };
    Entry& entryFor(const std::string& alias);

    std::string reposDir_;
    std::chrono::seconds fetchTimeout_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace slipway
