#include "backends/docker_output.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(DockerOutput, FindsTheDigestInPushOutput) {
    const std::string output =
        "The push refers to repository [localhost:5443/api]\n"
        "43f427434556: Pushed\n"
        "1.0: digest: sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a size: 735\n";
    EXPECT_EQ(parsePushDigest(output), "sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a");
}

TEST(DockerOutput, FindsNoDigestWhenThereIsNone) {
    EXPECT_EQ(parsePushDigest("unauthorized: authentication required\n"), "");
    EXPECT_EQ(parsePushDigest("digest: sha256:short size: 1\n"), "");
}

TEST(DockerOutput, TellsTheImagesABuildMadeFromThoseItReusedAndFromThoseARunStepPrinted) {
    DockerOutputScanner scanner;
    scanner.feed(" ---> 000000000000\n"  // before any step: not the build's
                 "Step 1/4 : FROM base\n"
                 " ---> 6d3252677a64\n"
                 "Step 2/4 : COPY payload.txt /payload.txt\n"
                 " ---> Using cache\n"
                 " ---> 1cbd2e9184b5\n"
                 "Step 3/4 : RUN echo ' ---> abcdefabcdef'\n"
                 " ---> Running in 849c0555e907\n"
                 " ---> abcdefabcdef\n"
                 "Removing intermediate container 849c0555e907\n"
                 " ---> 96f416a900ef\n"
                 "Step 4/4 : RUN false\n"
                 " ---> Running in 5f2b6a0c1d3e\n"
                 " ---> 96f416a90aaa\n");
    scanner.finish();
    std::vector<std::string> ids;
    for (const StepImage& step : scanner.stepImages()) ids.push_back(step.id + (step.made ? " made" : ""));
    EXPECT_EQ(ids, (std::vector<std::string>{"6d3252677a64", "1cbd2e9184b5", "abcdefabcdef made", "96f416a900ef made",
                                             "96f416a90aaa made"}));
    // The engine's word decides: abcdefabcdef, which step 3 printed, is an
    // image of someone else's, and 96f416a90aaa (printed by step 4) does not exist.
    const std::map<std::string, ImageOrigin> origins = {
        {"1cbd2e9184b5", {"sha256:6d3252677a64aaaa", false}},
        {"abcdefabcdef", {"sha256:0123456789ab0000", true}},
        {"96f416a900ef", {"sha256:1cbd2e9184b5bbbb", false}},
    };
    std::vector<std::string> asked;
    const auto parentOf = [&](const std::string& id) {
        asked.push_back(id);
        const auto found = origins.find(id);
        return found == origins.end() ? ImageOrigin{} : found->second;
    };
    EXPECT_EQ(imagesBuildMade(scanner.stepImages(), parentOf), std::vector<std::string>{"96f416a900ef"});
    EXPECT_EQ(asked.size(), 4u);
    // A tagged image is never the build's, even as the child of its last step.
    const std::vector<StepImage> steps = {{"6d3252677a64", false}, {"1cbd2e9184b5", true}};
    EXPECT_TRUE(imagesBuildMade(steps, [](const std::string&) { return ImageOrigin{"sha256:6d3252677a64ff", true}; })
                    .empty());
}

TEST(DockerOutput, NamesTheLastStepABuildStarted) {
    EXPECT_EQ(lastBuildStep("Step 1/3 : FROM base\n ---> 6d3252677a64\nStep 2/3 : RUN make all  \n"
                            " ---> Running in 849c0555e907\nmake: *** no rule\n"),
              "2/3 (RUN make all)");
    EXPECT_EQ(lastBuildStep("Error parsing Dockerfile\n"), "");
}

TEST(DockerOutput, ReadsAHostileOutputWithoutHoldingItOrRecursingOnIt) {
    // A RUN step can print anything: a 50 KB "Step" line overflowed std::regex's
    // recursion; gigabytes of output must cost no memory.
    DockerOutputScanner scanner;
    scanner.feed("Step 1/1 : RUN " + std::string(50000, '0') + "\n");
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 64; ++i) scanner.feed(chunk);  // one 64 MiB line
    scanner.feed("\nThe command '/bin/sh -c false' returned a non-zero code: 1");
    scanner.finish();
    EXPECT_EQ(scanner.lastStep().substr(0, 12), "1/1 (RUN 000");
    EXPECT_EQ(scanner.lastLine(), "The command '/bin/sh -c false' returned a non-zero code: 1");
    EXPECT_TRUE(scanner.stepImages().empty());
}

TEST(DockerOutput, KeepsTheLineSayingTheEngineCannotBeReached) {
    DockerOutputScanner scanner;
    scanner.feed("Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n"
                 "time=\"2026-11-27T12:03:20Z\" level=error msg=\"Can't close tar writer: io: read/write on closed pipe\"\n");
    EXPECT_EQ(scanner.unreachableLine(),
              "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?");
    EXPECT_NE(scanner.lastLine().find("closed pipe"), std::string::npos);
}

TEST(DockerOutput, ARunStepThatPrintsTheEnginesWordsIsNoOutage) {
    DockerOutputScanner scanner;
    scanner.feed("Step 2/3 : RUN echo 'Cannot connect to the Docker daemon at unix:///x.sock.' && false\n"
                 " ---> Running in 5f2b6a0c1d3e\n"
                 "Cannot connect to the Docker daemon at unix:///x.sock.\n"
                 "The command '/bin/sh -c echo ...' returned a non-zero code: 1\n");
    EXPECT_EQ(scanner.unreachableLine(), "");
}

TEST(DockerOutput, ReadsOutputThatArrivesInPieces) {
    DockerOutputScanner scanner;
    for (const char* piece : {"Step 2/2 : CO", "PY a /a\n ---", "> 96f416a9", "00ef\n1.0: digest: sha256:",
                              "5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a size: 735\n"}) {
        scanner.feed(piece);
    }
    ASSERT_EQ(scanner.stepImages().size(), 1u);
    EXPECT_EQ(scanner.stepImages()[0].id, "96f416a900ef");
    EXPECT_EQ(scanner.digest(), "sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a");
}

}  // namespace
}  // namespace slipway
