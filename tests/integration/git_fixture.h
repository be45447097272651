#pragma once

#include <map>
#include <string>

namespace slipway::testing {

// A Git repository made by the test with the git CLI, on branch main, served
// to slipwayd over file://.
class GitFixture {
public:
    explicit GitFixture(const std::string& dir);

    // Writes `files` (path -> content) into the work tree, commits everything,
    // and returns the new commit's SHA.
    std::string commit(const std::map<std::string, std::string>& files, const std::string& message = "change");

    // Makes `path` a symbolic link to `target` (committed by the next commit()).
    void symlink(const std::string& path, const std::string& target);

    std::string url() const { return "file://" + dir_; }

private:
    std::string dir_;
};

}  // namespace slipway::testing
