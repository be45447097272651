#include "daemon/state_lock.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

TEST(StateLock, RefusesASecondHolderUntilTheFirstLetsGo) {
    testing::TempDir dir;
    {
        StateLock first(dir.path());
        try {
            StateLock second(dir.path());
            FAIL() << "two locks on one state folder";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("another slipwayd is using " + dir.path()), std::string::npos)
                << e.what();
        }
    }
    EXPECT_NO_THROW(StateLock again(dir.path()));
}

}  // namespace
}  // namespace slipway
