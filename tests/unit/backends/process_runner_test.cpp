#include "backends/process_runner.h"

#include <sstream>

#include <gtest/gtest.h>

namespace slipway {
namespace {

using std::chrono::seconds;

TEST(ProcessRunner, CapturesOutputAndExitCode) {
    std::ostringstream out;
    const ProcessResult r = runProcess("echo", {"one", "two"}, out, seconds(10));
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_FALSE(r.timedOut);
    EXPECT_EQ(out.str(), "one two\n");
}

TEST(ProcessRunner, PassesArgumentsWithoutAShell) {
    std::ostringstream out;
    runProcess("echo", {"$HOME; rm -rf /", "`id`"}, out, seconds(10));
    EXPECT_EQ(out.str(), "$HOME; rm -rf / `id`\n");
}

TEST(ProcessRunner, ReportsFailureAndStderr) {
    std::ostringstream out;
    const ProcessResult r = runProcess("ls", {"/nonexistent-slipway-path"}, out, seconds(10));
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(out.str().find("nonexistent-slipway-path"), std::string::npos);
}

TEST(ProcessRunner, AddsEnvironmentVariables) {
    std::ostringstream out;
    runProcess("env", {}, out, seconds(10), {{"SLIPWAY_TEST_VALUE", "42"}});
    EXPECT_NE(out.str().find("SLIPWAY_TEST_VALUE=42"), std::string::npos);
}

TEST(ProcessRunner, FeedsInputToStdinAndClosesIt) {
    std::ostringstream out;
    const ProcessResult r = runProcess("cat", {}, out, seconds(10), {}, std::string("not-in-argv\nsecond line"));
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_FALSE(r.timedOut) << "cat never saw the end of its input";
    EXPECT_EQ(out.str(), "not-in-argv\nsecond line");
}

TEST(ProcessRunner, FeedsInputLargerThanAPipeToAChildThatPrintsAsItReads) {
    const std::string input(1 << 20, 'x');
    std::ostringstream out;
    const ProcessResult r = runProcess("cat", {}, out, seconds(10), {}, input);
    EXPECT_FALSE(r.timedOut);
    EXPECT_EQ(out.str().size(), input.size());
}

TEST(ProcessRunner, SurvivesAChildThatExitsWithoutReadingItsInput) {
    std::ostringstream out;
    const ProcessResult r = runProcess("true", {}, out, seconds(10), {}, std::string(4 << 20, 'x'));
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_FALSE(r.timedOut);
}

TEST(ProcessRunner, KillsAChildPastItsTimeout) {
    std::ostringstream out;
    const auto start = std::chrono::steady_clock::now();
    const ProcessResult r = runProcess("sleep", {"30"}, out, seconds(1));
    EXPECT_TRUE(r.timedOut);
    EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

TEST(ProcessRunner, ThrowsWhenTheProgramCannotStart) {
    std::ostringstream out;
    EXPECT_THROW(runProcess("/nonexistent/slipway-program", {}, out, seconds(10)), std::runtime_error);
}

}  // namespace
}  // namespace slipway
