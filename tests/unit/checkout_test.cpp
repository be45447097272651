#include "daemon/checkout.h"

#include <gtest/gtest.h>
#include <Poco/File.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

TEST(Checkout, PrunesTheMirrorsOfRepositoriesNoLongerConfigured) {
    testing::TempDir dir;
    dir.write("repos/kept.git/HEAD", "ref: refs/heads/main\n");
    dir.write("repos/gone.git/HEAD", "ref: refs/heads/main\n");
    Checkout checkout(dir.path() + "/repos", std::chrono::seconds(10));
    RepoSettings kept;
    kept.alias = "kept";
    EXPECT_EQ(checkout.pruneMirrors({kept}), std::vector<std::string>{"gone.git"});
    EXPECT_TRUE(Poco::File(dir.path() + "/repos/kept.git").exists());
    EXPECT_FALSE(Poco::File(dir.path() + "/repos/gone.git").exists());
}

}  // namespace
}  // namespace slipway
