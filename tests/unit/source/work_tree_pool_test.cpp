#include "daemon/source/work_tree_pool.h"

#include <gtest/gtest.h>
#include <Poco/File.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

const std::string kOne = "1111111111111111111111111111111111111111";
const std::string kTwo = "2222222222222222222222222222222222222222";

std::vector<std::string> namesIn(const std::string& dir) {
    std::vector<std::string> names;
    Poco::File(dir).list(names);
    std::sort(names.begin(), names.end());
    return names;
}

TEST(WorkTreePool, LendsNewTreesWhileNoneIsIdle) {
    testing::TempDir dir;
    WorkTreePool pool(dir.path() + "/exam");
    const WorkTree first = pool.take(kOne);
    const WorkTree second = pool.take(kOne);
    EXPECT_EQ(first.path(), dir.path() + "/exam/0");
    EXPECT_EQ(second.path(), dir.path() + "/exam/1");
}

TEST(WorkTreePool, LendsTheTreeAtTheCommitElseTheOneGivenBackLast) {
    testing::TempDir dir;
    WorkTreePool pool(dir.path() + "/exam");
    WorkTree atOne = pool.take(kOne);
    WorkTree atTwo = pool.take(kTwo);
    Poco::File(atOne.path()).createDirectories();
    Poco::File(atTwo.path()).createDirectories();
    atOne.remember(kOne);
    atTwo.remember(kTwo);
    pool.giveBack(atOne);
    pool.giveBack(atTwo);
    EXPECT_EQ(pool.take(kOne).path(), atOne.path());
    const std::string three = "3333333333333333333333333333333333333333";
    EXPECT_EQ(pool.take(three).path(), atTwo.path());
    EXPECT_EQ(pool.take(three).path(), dir.path() + "/exam/2");
}

TEST(WorkTreePool, TakesInNotedTreesLeftByAPreviousRunAndRemovesTheRest) {
    testing::TempDir dir;
    dir.write("exam/4/file", "kept");
    dir.write("exam/4.index", "index");
    dir.write("exam/4.commit", kOne + "\n");
    dir.write("exam/7/half", "cut short: no note");
    dir.write("exam/7.index", "index");
    dir.write("exam/9.commit", kTwo + "\n");  // a note without its folder
    dir.write("exam/stray", "not a work tree");
    WorkTreePool pool(dir.path() + "/exam");
    EXPECT_EQ(pool.take(kTwo).path(), dir.path() + "/exam/4");
    EXPECT_EQ(namesIn(dir.path() + "/exam"), (std::vector<std::string>{"4", "4.commit", "4.index"}));
    // New trees are numbered past every number seen, never reusing a folder a crash left.
    EXPECT_EQ(pool.take(kTwo).path(), dir.path() + "/exam/10");
}

}  // namespace
}  // namespace slipway
