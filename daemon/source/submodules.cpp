#include "daemon/source/submodules.h"

#include <fstream>
#include <memory>

#include <git2.h>

#include <Poco/File.h>
#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "daemon/source/git_handles.h"

namespace slipway {
namespace {

using GitConfig = std::unique_ptr<git_config, GitDeleter<git_config, git_config_free>>;

// Removes the file it names when it goes.
struct ScratchFile {
    std::string path;
    ~ScratchFile() {
        try {
            Poco::File(path).remove();
        } catch (const Poco::Exception&) {
            // Written next to nothing else; the next one overwrites it.
        }
    }
};

// scheme://host:port of `url`; empty for what is not a URL (scp-like "git@host:path").
std::string originOf(const std::string& url) {
    try {
        const Poco::URI uri(url);
        if (uri.getScheme().empty()) return "";
        return uri.getScheme() + "://" + uri.getAuthority();
    } catch (const Poco::SyntaxException&) {
        return "";
    }
}

}  // namespace

std::map<std::string, std::string> submoduleUrls(const std::string& gitmodules, const std::string& scratchFile) {
    // libgit2's parser follows [include] and [includeIf] to other files (a
    // repository's .gitmodules naming a credential file, a FIFO); git never
    // reads them in .gitmodules, and neither does slipway.
    // Every '[' counts, wherever it stands: libgit2 reads a second header on
    // the line of the first, skips a byte-order mark and any whitespace. A
    // value that happens to hold "[include" is refused too.
    static const std::string whitespace = " \t\n\v\f\r";
    for (std::string::size_type open = gitmodules.find('['); open != std::string::npos;
         open = gitmodules.find('[', open + 1)) {
        const std::string::size_type name = gitmodules.find_first_not_of(whitespace, open + 1);
        if (name != std::string::npos && Poco::icompare(gitmodules.substr(name, 7), "include") == 0) {
            throw SubmoduleError(".gitmodules has an [include] or [includeIf] section, which slipway does not follow");
        }
    }
    const ScratchFile scratch{scratchFile};
    std::ofstream out(scratchFile, std::ios::binary | std::ios::trunc);
    out << gitmodules;
    out.close();
    if (!out) throw SubmoduleError("cannot write .gitmodules to " + scratchFile + " to read it");
    git_config* raw = nullptr;
    checkGit(git_config_open_ondisk(&raw, scratchFile.c_str()), ".gitmodules");
    const GitConfig config(raw);
    // submodule.<name>.path and submodule.<name>.url, by name.
    std::map<std::string, std::string> paths, urls;
    git_config_iterator* iterator = nullptr;
    checkGit(git_config_iterator_glob_new(&iterator, config.get(), "^submodule\\..*\\.(path|url)$"), ".gitmodules");
    const std::unique_ptr<git_config_iterator, GitDeleter<git_config_iterator, git_config_iterator_free>> owned(
        iterator);
    git_config_entry* entry = nullptr;
    while (git_config_next(&entry, owned.get()) == 0) {
        const std::string key = entry->name;
        const std::string::size_type dot = key.rfind('.');
        const std::string name = key.substr(std::string("submodule.").size(), dot - std::string("submodule.").size());
        (key.compare(dot, std::string::npos, ".path") == 0 ? paths : urls)[name] = entry->value;
    }
    std::map<std::string, std::string> byPath;
    for (const auto& [name, path] : paths) {
        if (urls.count(name)) byPath[path] = urls.at(name);
    }
    return byPath;
}

std::string resolveSubmoduleUrl(const std::string& base, const std::string& url, const std::string& path) {
    std::string resolved = url;
    if (url.rfind("./", 0) == 0 || url.rfind("../", 0) == 0) {
        std::string root = base;
        while (!root.empty() && root.back() == '/') root.pop_back();
        std::string rest = url;
        while (true) {
            if (rest.rfind("./", 0) == 0) {
                rest.erase(0, 2);
            } else if (rest.rfind("../", 0) == 0) {
                rest.erase(0, 3);
                const std::string::size_type slash = root.rfind('/');
                if (slash == std::string::npos || slash < originOf(base).size()) {
                    throw SubmoduleError("submodule " + path + ": " + url + " climbs above the host of " + base);
                }
                root.erase(slash);
            } else {
                break;
            }
        }
        resolved = root + "/" + rest;
    }
    const std::string origin = originOf(resolved);
    if (origin.empty() || origin != originOf(base)) {
        throw SubmoduleError("submodule " + path + ": " + resolved + " is not on " + originOf(base) +
                             ", the host of the repository; slipway fetches submodules from there only, with "
                             "the repository's token");
    }
    return resolved;
}

}  // namespace slipway
