#include "daemon/source/work_tree.h"

#include <gtest/gtest.h>
#include <Poco/File.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

TEST(WorkTree, KnowsItsCommitOnlyBetweenRememberAndForget) {
    testing::TempDir dir;
    WorkTree tree(dir.path() + "/3");
    EXPECT_EQ(tree.commit(), "");
    tree.remember(kSha);
    EXPECT_EQ(tree.commit(), kSha);
    EXPECT_EQ(WorkTree(dir.path() + "/3").commit(), kSha) << "the note is on disk";
    EXPECT_FALSE(Poco::File(dir.path() + "/3.commit.new").exists());
    tree.forget();
    EXPECT_EQ(tree.commit(), "");
}

TEST(WorkTree, ANoteCutShortIsNoCommit) {
    testing::TempDir dir;
    WorkTree tree(dir.path() + "/3");
    for (const std::string& note : {kSha.substr(0, 20), kSha.substr(1) + "g", std::string("")}) {
        dir.write("3.commit", note);
        EXPECT_EQ(tree.commit(), "") << note;
    }
}

TEST(WorkTree, ClearLeavesAnEmptyFolderAndRemoveNothing) {
    testing::TempDir dir;
    WorkTree tree(dir.path() + "/3");
    dir.write("3/a/b", "file");
    dir.write("3.index", "index");
    tree.remember(kSha);
    tree.clear();
    std::vector<std::string> names;
    Poco::File(dir.path()).list(names);
    EXPECT_EQ(names, std::vector<std::string>{"3"});
    Poco::File(tree.path()).list(names);
    EXPECT_TRUE(names.empty()) << "the folder is empty";
    tree.remove();
    names.clear();
    Poco::File(dir.path()).list(names);
    EXPECT_TRUE(names.empty());
}

}  // namespace
}  // namespace slipway
