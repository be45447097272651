#include "daemon/source/local_object_copy.h"

#include <gtest/gtest.h>

#include "daemon/source/git_handles.h"
#include "tests/integration/command.h"
#include "tests/integration/git_fixture.h"
#include "tests/support/temp_dir.h"

#include <Poco/String.h>

namespace slipway {
namespace {

class LocalObjectCopyTest : public ::testing::Test {
protected:
    LocalObjectCopyTest() {
        git_repository* repo = nullptr;
        checkGit(git_repository_init(&repo, mirrorPath_.c_str(), /*is_bare=*/1), "init");
        mirror_.reset(repo);
    }

    git_oid oid(const std::string& sha) {
        git_oid id;
        checkGit(git_oid_fromstr(&id, sha.c_str()), sha);
        return id;
    }
    bool mirrorHas(const std::string& sha) {
        git_odb* odb = nullptr;
        checkGit(git_repository_odb(&odb, mirror_.get()), "odb");
        const GitOdb owned(odb);
        const git_oid id = oid(sha);
        return git_odb_exists(owned.get(), &id) != 0;
    }
    bool copy(const std::string& sha, std::size_t maxObjects = 1000) {
        return copyFromLocalRepository(mirror_.get(), dir_.path() + "/source", oid(sha), maxObjects);
    }
    // git fsck: every object the mirror's commits and trees point to is there.
    void expectComplete(const std::string& head) {
        testing::mustRun("git", {"-C", mirrorPath_, "update-ref", "refs/heads/check", head});
        std::string output;
        EXPECT_TRUE(testing::tryRun("git", {"-C", mirrorPath_, "fsck", "--full", "--no-dangling"}, output)) << output;
    }

    GitLibrary library_;
    testing::TempDir dir_;
    testing::GitFixture source_{dir_.path() + "/source"};
    std::string mirrorPath_ = dir_.path() + "/mirror.git";
    GitRepository mirror_;
};

TEST_F(LocalObjectCopyTest, CopiesACommitWithItsHistoryTreesAndBlobs) {
    source_.commit({{"a/b/c.txt", "one"}, {"top.txt", "top"}});
    const std::string head = source_.commit({{"a/b/c.txt", "two"}, {"a/new.txt", "new"}});
    ASSERT_TRUE(copy(head));
    EXPECT_TRUE(mirrorHas(head));
    expectComplete(head);
}

TEST_F(LocalObjectCopyTest, CopiesOnlyWhatTheMirrorLacks) {
    const std::string first = source_.commit({{"big.bin", std::string(100000, 'x')}, {"small.txt", "1"}});
    ASSERT_TRUE(copy(first));
    const std::string second = source_.commit({{"small.txt", "2"}});
    // The new commit, its root tree and one blob: three objects, where a fetch
    // over libgit2's local transport would pack the whole history again.
    EXPECT_FALSE(copy(second, 2));
    EXPECT_FALSE(mirrorHas(second));
    ASSERT_TRUE(copy(second, 3));
    expectComplete(second);
}

TEST_F(LocalObjectCopyTest, CopiesBothSidesOfAMerge) {
    source_.commit({{"base.txt", "base"}});
    const std::string base = testing::mustRun("git", {"-C", dir_.path() + "/source", "rev-parse", "HEAD"});
    ASSERT_TRUE(copy(Poco::trim(base)));
    testing::mustRun("git", {"-C", dir_.path() + "/source", "checkout", "-q", "-b", "feature"});
    source_.commit({{"feature.txt", "f1"}});
    source_.commit({{"feature.txt", "f2"}});
    testing::mustRun("git", {"-C", dir_.path() + "/source", "checkout", "-q", "main"});
    source_.commit({{"main.txt", "m"}});
    testing::mustRun("git", {"-C", dir_.path() + "/source", "-c", "user.name=t", "-c", "user.email=t@t.invalid", "merge",
                             "-q", "--no-edit", "feature"});
    const std::string merge = Poco::trim(testing::mustRun("git", {"-C", dir_.path() + "/source", "rev-parse", "HEAD"}));
    ASSERT_TRUE(copy(merge));
    expectComplete(merge);
}

TEST_F(LocalObjectCopyTest, SaysNoForACommitTheSourceLacks) {
    source_.commit({{"a.txt", "a"}});
    EXPECT_FALSE(copy("0123456789abcdef0123456789abcdef01234567"));
}

TEST_F(LocalObjectCopyTest, ACopyCutShortLeavesNoCommitOrTreeWithoutWhatItNeeds) {
    std::map<std::string, std::string> files;
    for (int i = 0; i < 30; ++i) files["d" + std::to_string(i % 5) + "/f" + std::to_string(i)] = std::to_string(i);
    const std::string head = source_.commit(files);
    EXPECT_FALSE(copy(head, 10));
    EXPECT_FALSE(mirrorHas(head));
    // Whatever was written is complete: fsck over all objects finds nothing missing.
    std::string output;
    EXPECT_TRUE(testing::tryRun("git", {"-C", mirrorPath_, "fsck", "--full", "--no-dangling"}, output)) << output;
    ASSERT_TRUE(copy(head));
    expectComplete(head);
}

}  // namespace
}  // namespace slipway
