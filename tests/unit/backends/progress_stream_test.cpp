#include "backends/progress_stream.h"

#include <sstream>

#include <gtest/gtest.h>

#include "backends/docker_output.h"

namespace slipway {
namespace {

const std::string kDigest = "sha256:5d7903307c7f9cba36a351264b5c7788b1cac81e37bb48b9e4c7c67312e6282a";

void consumeAll(ProgressStream& stream, const std::string& lines) {
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);) stream.consume(line);
}

TEST(ProgressStream, WritesBuildTextAsItIsAndKeepsTheImageId) {
    std::ostringstream log;
    ProgressStream stream(log);
    consumeAll(stream,
               "{\"stream\":\"Step 1/2 : FROM base\\n\"}\r\n"
               "{\"stream\":\" ---\\u003e 6d3252677a64\\n\"}\r\n"
               "{\"stream\":\"Step 2/2 : COPY payload.txt /payload.txt\\n\"}\r\n"
               "{\"stream\":\" ---\\u003e 96f416a900ef\\n\"}\r\n"
               "{\"aux\":{\"ID\":\"sha256:96f416a900ef\"}}\r\n"
               "{\"stream\":\"Successfully built 96f416a900ef\\n\"}\r\n");
    const std::string expected =
        "Step 1/2 : FROM base\n ---> 6d3252677a64\nStep 2/2 : COPY payload.txt /payload.txt\n"
        " ---> 96f416a900ef\nSuccessfully built 96f416a900ef\n";
    EXPECT_EQ(log.str(), expected);
    EXPECT_EQ(stream.imageId(), "sha256:96f416a900ef");
    EXPECT_EQ(stream.error(), "");
    ASSERT_EQ(stream.output().stepImages().size(), 2u);
    EXPECT_EQ(stream.output().stepImages()[1].id, "96f416a900ef");
    EXPECT_TRUE(stream.output().stepImages()[1].made);
    EXPECT_EQ(stream.output().lastStep(), "2/2 (COPY payload.txt /payload.txt)");
}

TEST(ProgressStream, TakesTheErrorDetailsMessage) {
    std::ostringstream log;
    ProgressStream stream(log);
    consumeAll(stream,
               "{\"stream\":\"Step 2/2 : RUN false\\n\"}\n"
               "{\"errorDetail\":{\"code\":1,\"message\":\"The command '/bin/sh -c false' returned a non-zero code: "
               "1\"},\"error\":\"short form\"}\n");
    EXPECT_EQ(stream.error(), "The command '/bin/sh -c false' returned a non-zero code: 1");
    EXPECT_NE(log.str().find("returned a non-zero code: 1\n"), std::string::npos) << log.str();
    EXPECT_EQ(stream.imageId(), "");
}

TEST(ProgressStream, FallsBackOnTheErrorField) {
    std::ostringstream log;
    ProgressStream stream(log);
    stream.consume("{\"error\":\"unauthorized: authentication required\"}");
    EXPECT_EQ(stream.error(), "unauthorized: authentication required");
}

TEST(ProgressStream, WritesEachLayersStatusOnceAndTakesTheAuxDigest) {
    std::ostringstream log;
    ProgressStream stream(log);
    consumeAll(stream,
               "{\"status\":\"The push refers to repository [localhost:5443/api]\"}\n"
               "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"43f427434556\"}\n"
               "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":512,\"total\":2048},"
               "\"progress\":\"[=====>   ]     512B/2.048kB\",\"id\":\"43f427434556\"}\n"
               "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":1024,\"total\":2048},"
               "\"progress\":\"[==========>    ]  1.024kB/2.048kB\",\"id\":\"43f427434556\"}\n"
               "{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"43f427434556\"}\n"
               "{\"status\":\"1: digest: " + kDigest + " size: 528\"}\n"
               "{\"progressDetail\":{},\"aux\":{\"Tag\":\"1\",\"Digest\":\"" + kDigest + "\",\"Size\":528}}\n");
    EXPECT_EQ(log.str(),
              "The push refers to repository [localhost:5443/api]\n"
              "43f427434556: Preparing\n"
              "43f427434556: Pushing [=====>   ]     512B/2.048kB\n"
              "43f427434556: Pushed\n"
              "1: digest: " + kDigest + " size: 528\n");
    EXPECT_EQ(stream.digest(), kDigest);
    EXPECT_EQ(stream.error(), "");
}

TEST(ProgressStream, FindsTheDigestInAStatusLineWithoutAux) {
    std::ostringstream log;
    ProgressStream stream(log);
    stream.consume("{\"status\":\"1.0: digest: " + kDigest + " size: 735\"}");
    EXPECT_EQ(stream.digest(), kDigest);
}

TEST(ProgressStream, PassesALineThatIsNotJsonToTheLog) {
    std::ostringstream log;
    ProgressStream stream(log);
    stream.consume("not json at all");
    stream.consume("");
    EXPECT_EQ(log.str(), "not json at all\n");
    EXPECT_EQ(stream.error(), "");
}

}  // namespace
}  // namespace slipway
