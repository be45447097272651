#include "daemon/source/submodules.h"

#include <gtest/gtest.h>

#include "daemon/source/git_handles.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

std::string errorOf(const std::string& base, const std::string& url) {
    try {
        return resolveSubmoduleUrl(base, url, "vendor/lib");
    } catch (const SubmoduleError& e) {
        return e.what();
    }
}

TEST(Submodules, RelativeUrlsAreResolvedAgainstTheRepositoryAsGitDoes) {
    const std::string base = "https://github.com/acme/shop.git";
    EXPECT_EQ(resolveSubmoduleUrl(base, "../lib.git", "vendor/lib"), "https://github.com/acme/lib.git");
    EXPECT_EQ(resolveSubmoduleUrl(base, "../../other/lib", "vendor/lib"), "https://github.com/other/lib");
    EXPECT_EQ(resolveSubmoduleUrl(base, "./lib", "vendor/lib"), "https://github.com/acme/shop.git/lib");
    EXPECT_EQ(resolveSubmoduleUrl(base, "https://github.com/acme/lib.git", "vendor/lib"),
              "https://github.com/acme/lib.git");
    EXPECT_EQ(resolveSubmoduleUrl("file:///srv/git/shop", "../lib", "vendor/lib"), "file:///srv/git/lib");
}

TEST(Submodules, OnlyTheRepositorysOwnHostIsFetchedFrom) {
    const std::string base = "https://github.com/acme/shop.git";
    EXPECT_EQ(errorOf(base, "https://gitlab.example.com/acme/lib.git"),
              "submodule vendor/lib: https://gitlab.example.com/acme/lib.git is not on https://github.com, the host "
              "of the repository; slipway fetches submodules from there only, with the repository's token");
    EXPECT_NE(errorOf(base, "http://github.com/acme/lib.git").find("is not on https://github.com"), std::string::npos);
    EXPECT_NE(errorOf(base, "git@github.com:acme/lib.git").find("is not on https://github.com"), std::string::npos);
    EXPECT_NE(errorOf(base, "file:///etc").find("is not on https://github.com"), std::string::npos);
    EXPECT_EQ(errorOf(base, "../../../lib"),
              "submodule vendor/lib: ../../../lib climbs above the host of https://github.com/acme/shop.git");
}

TEST(Submodules, ReadsEachPathsUrlFromGitmodules) {
    GitLibrary library;
    testing::TempDir dir;
    const std::map<std::string, std::string> urls = submoduleUrls(
        "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = ../lib.git\n"
        "[submodule \"docs.theme\"]\n\tpath = docs/theme\n\turl = https://github.com/acme/theme\n"
        "[submodule \"no-url\"]\n\tpath = nowhere\n",
        dir.path() + "/scratch");
    EXPECT_EQ(urls, (std::map<std::string, std::string>{{"docs/theme", "https://github.com/acme/theme"},
                                                        {"vendor/lib", "../lib.git"}}));
}

TEST(Submodules, IncludesInGitmodulesAreRefusedNotFollowed) {
    GitLibrary library;
    testing::TempDir dir;
    const std::string secret = dir.write("secret", "[submodule \"x\"]\n\tpath = x\n\turl = https://token@example.com\n");
    for (const std::string section : {"[include]", "  [IncludeIf \"gitdir:/\"]", "[include \"x\"]",
                                      "[submodule \"a\"] [include]", "\xEF\xBB\xBF[include]", "\f[ include]"}) {
        try {
            submoduleUrls(section + "\n\tpath = " + secret + "\n", dir.path() + "/scratch");
            ADD_FAILURE() << section << " was followed";
        } catch (const SubmoduleError& e) {
            EXPECT_NE(std::string(e.what()).find("which slipway does not follow"), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace slipway
