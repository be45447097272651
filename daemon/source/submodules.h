#pragma once

#include <map>
#include <stdexcept>
#include <string>

namespace slipway {

// A submodule that cannot be fetched: its URL is missing, unreadable or on a
// host slipway does not fetch from. what() names the submodule and why.
class SubmoduleError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The URL of each submodule path in `gitmodules` (the content of a
// .gitmodules file, read with libgit2's configuration parser, through a file
// of its own at `scratchFile`, removed again).
std::map<std::string, std::string> submoduleUrls(const std::string& gitmodules, const std::string& scratchFile);

// The URL a submodule of the repository at `base` is fetched from: a
// relative `url` ("../lib.git", "./lib") is resolved against `base` as git
// does, an absolute one taken as it is. Either way it must be on the same
// host (scheme, host and port) as `base`: a repository's submodules are
// fetched with its token, which must not travel anywhere else. Throws
// SubmoduleError naming `path` otherwise.
std::string resolveSubmoduleUrl(const std::string& base, const std::string& url, const std::string& path);

}  // namespace slipway
