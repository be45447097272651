#include "tests/integration/git_fixture.h"

#include <fstream>

#include <Poco/File.h>
#include <Poco/String.h>

#include "tests/integration/command.h"

namespace slipway::testing {

GitFixture::GitFixture(const std::string& dir) : dir_(dir) {
    Poco::File(dir_).createDirectories();
    mustRun("git", {"-C", dir_, "init", "--quiet", "--initial-branch=main"});
}

std::string GitFixture::commit(const std::map<std::string, std::string>& files, const std::string& message) {
    for (const auto& [path, content] : files) {
        const std::string file = dir_ + "/" + path;
        Poco::File(file.substr(0, file.rfind('/'))).createDirectories();
        std::ofstream(file, std::ios::binary) << content;
    }
    mustRun("git", {"-C", dir_, "add", "--all"});
    mustRun("git", {"-C", dir_, "-c", "user.name=slipway test", "-c", "user.email=test@slipway.invalid", "commit",
                    "--quiet", "--allow-empty", "-m", message});
    return Poco::trim(mustRun("git", {"-C", dir_, "rev-parse", "HEAD"}));
}

void GitFixture::symlink(const std::string& path, const std::string& target) {
    const std::string link = dir_ + "/" + path;
    Poco::File(link.substr(0, link.rfind('/'))).createDirectories();
    mustRun("ln", {"-sfn", target, link});
}

}  // namespace slipway::testing
