#include "backends/docker_ignore.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(DockerIgnore, ExcludesExactPathsRelativeToTheContext) {
    const DockerIgnore ignore("secret.txt\n/build\nlogs/\n./tmp/../cache\n");
    EXPECT_TRUE(ignore.excludes("secret.txt"));
    EXPECT_FALSE(ignore.excludes("app/secret.txt"));
    EXPECT_TRUE(ignore.excludes("build"));
    EXPECT_TRUE(ignore.excludes("logs"));
    EXPECT_TRUE(ignore.excludes("cache"));
    EXPECT_FALSE(ignore.excludes("tmp"));
    EXPECT_FALSE(ignore.excludes("secret.txt.orig"));
}

TEST(DockerIgnore, AnExcludedFolderTakesEverythingBelowIt) {
    const DockerIgnore ignore("node_modules\nsrc/generated\n");
    EXPECT_TRUE(ignore.excludes("node_modules/left-pad/index.js"));
    EXPECT_TRUE(ignore.excludes("src/generated/a/b.h"));
    EXPECT_FALSE(ignore.excludes("src/main.c"));
    EXPECT_FALSE(ignore.excludes("lib/node_modules/x"));
}

TEST(DockerIgnore, AStarStaysWithinOneComponent) {
    const DockerIgnore ignore("*.log\n*/*.tmp\n");
    EXPECT_TRUE(ignore.excludes("debug.log"));
    EXPECT_FALSE(ignore.excludes("logs/debug.log"));
    EXPECT_TRUE(ignore.excludes("a/b.tmp"));
    EXPECT_FALSE(ignore.excludes("b.tmp"));
    EXPECT_FALSE(ignore.excludes("a/b/c.tmp"));
}

TEST(DockerIgnore, TwoStarsCrossAnyNumberOfFolders) {
    const DockerIgnore ignore("**/*.pyc\ndocs/**\na/**/z\n");
    EXPECT_TRUE(ignore.excludes("x.pyc"));
    EXPECT_TRUE(ignore.excludes("pkg/sub/x.pyc"));
    EXPECT_TRUE(ignore.excludes("docs/a/b/c.md"));
    EXPECT_TRUE(ignore.excludes("a/z"));
    EXPECT_TRUE(ignore.excludes("a/b/c/z"));
    EXPECT_FALSE(ignore.excludes("b/z"));
    EXPECT_FALSE(ignore.excludes("x.py"));
}

TEST(DockerIgnore, QuestionMarksClassesAndEscapes) {
    const DockerIgnore ignore("file?.txt\n[ab].c\n[^x]y\nstar\\*\n");
    EXPECT_TRUE(ignore.excludes("file1.txt"));
    EXPECT_FALSE(ignore.excludes("file10.txt"));
    EXPECT_FALSE(ignore.excludes("file/.txt"));
    EXPECT_TRUE(ignore.excludes("a.c"));
    EXPECT_FALSE(ignore.excludes("c.c"));
    EXPECT_TRUE(ignore.excludes("zy"));
    EXPECT_FALSE(ignore.excludes("xy"));
    EXPECT_TRUE(ignore.excludes("star*"));
    EXPECT_FALSE(ignore.excludes("starry"));
}

TEST(DockerIgnore, RegexCharactersAreLiteral) {
    const DockerIgnore ignore("a.b\nc+d\n(e)\n$f\n");
    EXPECT_TRUE(ignore.excludes("a.b"));
    EXPECT_FALSE(ignore.excludes("axb"));
    EXPECT_TRUE(ignore.excludes("c+d"));
    EXPECT_FALSE(ignore.excludes("ccd"));
    EXPECT_TRUE(ignore.excludes("(e)"));
    EXPECT_TRUE(ignore.excludes("$f"));
}

TEST(DockerIgnore, TheLastMatchingPatternDecides) {
    const DockerIgnore keepReadme("*.md\n!README.md\n");
    EXPECT_TRUE(keepReadme.excludes("CHANGES.md"));
    EXPECT_FALSE(keepReadme.excludes("README.md"));
    const DockerIgnore dropAll("!README.md\n*.md\n");
    EXPECT_TRUE(dropAll.excludes("README.md"));
}

TEST(DockerIgnore, CommentsAndBlankLinesExcludeNothing) {
    const DockerIgnore ignore("# build output\n\n   \n  tmp  \n #spaced\n");
    EXPECT_FALSE(ignore.excludes("# build output"));
    EXPECT_FALSE(ignore.excludes("build"));
    EXPECT_TRUE(ignore.excludes("tmp"));
    // Only a '#' in the first column starts a comment.
    EXPECT_TRUE(ignore.excludes("#spaced"));
}

TEST(DockerIgnore, WalksAnExcludedFolderOnlyWhenAnExceptionReachesInside) {
    const DockerIgnore ignore("vendor\nassets\n!vendor/keep.txt\n");
    EXPECT_TRUE(ignore.excludes("vendor"));
    EXPECT_TRUE(ignore.mayReinclude("vendor"));
    EXPECT_FALSE(ignore.excludes("vendor/keep.txt"));
    EXPECT_TRUE(ignore.excludes("vendor/other.txt"));
    EXPECT_FALSE(ignore.mayReinclude("assets"));
    EXPECT_FALSE(ignore.mayReinclude("vend"));
}

TEST(DockerIgnore, AlwaysIncludedPathsSurviveAnyPattern) {
    DockerIgnore ignore("*\n");
    ignore.alwaysInclude("Dockerfile");
    ignore.alwaysInclude(".dockerignore");
    EXPECT_FALSE(ignore.excludes("Dockerfile"));
    EXPECT_FALSE(ignore.excludes(".dockerignore"));
    EXPECT_TRUE(ignore.excludes("payload.txt"));
}

TEST(DockerIgnore, RefusesPatternsItCannotUseNamingTheLine) {
    try {
        DockerIgnore("ok\n[abc\n");
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(".dockerignore line 2: bad pattern '[abc'"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(DockerIgnore("!\n"), std::runtime_error);
}

}  // namespace
}  // namespace slipway
