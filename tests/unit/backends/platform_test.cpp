#include "backends/platform.h"

#include <gtest/gtest.h>

#include "backends/platform_support.h"
#include "tests/support/temp_dir.h"

#include <fstream>

namespace slipway {
namespace {

std::string refusal(const std::string& text) {
    try {
        parsePlatform(text);
    } catch (const PlatformError& e) {
        return e.what();
    }
    return "accepted";
}

TEST(Platform, ParsesDockersNames) {
    const Platform arm64 = parsePlatform("linux/arm64");
    EXPECT_EQ(arm64.os, "linux");
    EXPECT_EQ(arm64.architecture, "arm64");
    EXPECT_EQ(arm64.variant, "");
    EXPECT_EQ(arm64.text(), "linux/arm64");
    EXPECT_EQ(arm64.tagSuffix(), "linux-arm64");
    EXPECT_EQ(arm64.emulatorName(), "qemu-aarch64");
    const Platform arm = parsePlatform("linux/arm/v6");
    EXPECT_EQ(arm.text(), "linux/arm/v6");
    EXPECT_EQ(arm.tagSuffix(), "linux-arm-v6");
    // A bare linux/arm is v7, as Docker reads it.
    EXPECT_EQ(parsePlatform("linux/arm").text(), "linux/arm/v7");
    EXPECT_EQ(parsePlatform("linux/amd64").emulatorName(), "qemu-x86_64");
}

TEST(Platform, RefusesWhatDockerWouldNotBuildNamingWhatIsWrong) {
    EXPECT_NE(refusal("arm64").find("write os/architecture"), std::string::npos) << refusal("arm64");
    EXPECT_NE(refusal("linux/arm64/v8/x").find("is not a platform"), std::string::npos);
    EXPECT_NE(refusal("windows/amd64").find("linux images only"), std::string::npos);
    EXPECT_NE(refusal("linux/aarch64").find("Docker calls it arm64"), std::string::npos) << refusal("linux/aarch64");
    EXPECT_NE(refusal("linux/x86_64").find("Docker calls it amd64"), std::string::npos);
    EXPECT_NE(refusal("linux/sparc").find("known: amd64, arm64"), std::string::npos) << refusal("linux/sparc");
    EXPECT_NE(refusal("linux/arm/v9").find("v5, v6 or v7"), std::string::npos);
    EXPECT_NE(refusal("linux/arm64/v8").find("only linux/arm takes a variant"), std::string::npos);
    EXPECT_NE(refusal("linux/").find("unknown architecture"), std::string::npos);
}

TEST(Platform, ReadsAnImagesPlatformAsDockerMatchesIt) {
    EXPECT_EQ(platformNamed("linux", "arm64", "v8"), parsePlatform("linux/arm64"));
    EXPECT_EQ(platformNamed("linux", "arm", ""), parsePlatform("linux/arm/v7"));
    EXPECT_EQ(platformNamed("linux", "arm", "v6"), parsePlatform("linux/arm/v6"));
    // Never throws: an unknown architecture just matches nothing slipway builds.
    EXPECT_EQ(platformNamed("linux", "sparc64", "").text(), "linux/sparc64");
    for (const Platform& known : knownPlatforms()) EXPECT_EQ(parsePlatform(known.text()), known) << known.text();
}

TEST(Platform, AListNamesNoPlatformTwice) {
    EXPECT_EQ(parsePlatforms({"linux/amd64", "linux/arm64"}).size(), 2u);
    try {
        parsePlatforms({"linux/arm/v7", "linux/amd64", "linux/arm"});
        FAIL() << "a platform listed twice was taken";
    } catch (const PlatformError& e) {
        EXPECT_NE(std::string(e.what()).find("\"linux/arm\" is listed twice"), std::string::npos) << e.what();
    }
}

class PlatformSupportTest : public ::testing::Test {
protected:
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_.path() + "/" + name) << text;
    }
    std::string problem(const std::string& platform, bool local = true) {
        return PlatformSupport(dir_.path(), local).problem(parsePlatform(platform), native_);
    }

    testing::TempDir dir_;
    Platform native_{"linux", "amd64", ""};
};

TEST_F(PlatformSupportTest, TheEnginesOwnPlatformNeedsNoEmulator) {
    // binfmt_misc not even mounted here.
    EXPECT_EQ(problem("linux/amd64"), "");
    EXPECT_EQ(problem("linux/386"), "");
}

TEST_F(PlatformSupportTest, SaysWhatIsMissingAndHowToFixIt) {
    EXPECT_NE(problem("linux/arm64").find("binfmt_misc is not mounted"), std::string::npos) << problem("linux/arm64");
    write("status", "disabled\n");
    EXPECT_NE(problem("linux/arm64").find("binfmt_misc is disabled"), std::string::npos) << problem("linux/arm64");
    write("status", "enabled\n");
    const std::string missing = problem("linux/arm64");
    EXPECT_NE(missing.find("linux/arm64 cannot be built on this host (the engine runs linux/amd64)"),
              std::string::npos)
        << missing;
    EXPECT_NE(missing.find("qemu-aarch64 is missing"), std::string::npos) << missing;
    EXPECT_NE(missing.find("apt-get install qemu-user-static"), std::string::npos) << missing;
    write("qemu-aarch64", "disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n");
    EXPECT_NE(problem("linux/arm64").find("update-binfmts --enable qemu-aarch64"), std::string::npos);
    // Without F the interpreter is looked up inside the container, where it is not.
    write("qemu-aarch64", "enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: OC\n");
    EXPECT_NE(problem("linux/arm64").find("without the F flag"), std::string::npos) << problem("linux/arm64");
    write("qemu-aarch64", "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n");
    EXPECT_EQ(problem("linux/arm64"), "");
    // An engine elsewhere: this host's emulators say nothing of it.
    EXPECT_EQ(problem("linux/s390x", false), "");
}

TEST_F(PlatformSupportTest, ListsWhatCanBeBuiltOwnPlatformFirst) {
    write("status", "enabled\n");
    write("qemu-aarch64", "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n");
    write("qemu-arm", "enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: PF\n");
    EXPECT_EQ(PlatformSupport(dir_.path()).buildable(native_),
              (std::vector<std::string>{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5",
                                        "linux/386"}));
    EXPECT_EQ(PlatformSupport(dir_.path(), false).buildable(native_), (std::vector<std::string>{"linux/amd64"}));
}

}  // namespace
}  // namespace slipway
