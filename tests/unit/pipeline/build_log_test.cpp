#include "daemon/pipeline/build_log.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

TEST(BuildLog, KeepsEverythingUnderTheCap) {
    testing::TempDir dir;
    {
        BuildLog log(dir.path() + "/b.log", 4096);
        log << "Step 1/2 : FROM base\n" << std::flush;
    }
    EXPECT_EQ(read(dir.path() + "/b.log"), "Step 1/2 : FROM base\n");
}

TEST(BuildLog, CutsAtTheCapAndSaysSoOnce) {
    testing::TempDir dir;
    {
        BuildLog log(dir.path() + "/b.log", 10);
        log << "0123456789abcdef";
        log << "more and more";
    }
    EXPECT_EQ(read(dir.path() + "/b.log"),
              "0123456789\n[slipway: log truncated at 10 bytes (builder.max_log_bytes); the rest of this build's "
              "output was dropped]\n");
}

TEST(BuildLog, CountsWhatAnEarlierRunWrote) {
    testing::TempDir dir;
    dir.write("b.log", "12345678");
    {
        BuildLog log(dir.path() + "/b.log", 10);
        log << "abcdef";
    }
    EXPECT_EQ(read(dir.path() + "/b.log").substr(0, 11), "12345678ab\n");
}

}  // namespace
}  // namespace slipway
