#include "daemon/pipeline/content_key.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

const std::string kTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

TEST(ContentKey, IsTheSha256OfItsDocumentedText) {
    // printf 'slipway-content-v1\ntree 4b82...\ndockerfile Dockerfile\n' | sha256sum
    EXPECT_EQ(contentKey({kTree, "Dockerfile", {}, {}}),
              "sha256:221d74577144387aa2eb466c1d87748527ffcf1780b2eacbbad49467799d3f89");
}

TEST(ContentKey, ChangesWithEachInput) {
    const std::string base = contentKey({kTree, "Dockerfile", {{"A", "1"}}, {}});
    EXPECT_NE(contentKey({"0000000000000000000000000000000000000000", "Dockerfile", {{"A", "1"}}, {}}), base);
    EXPECT_NE(contentKey({kTree, "Dockerfile.prod", {{"A", "1"}}, {}}), base);
    EXPECT_NE(contentKey({kTree, "Dockerfile", {{"A", "2"}}, {}}), base);
    EXPECT_NE(contentKey({kTree, "Dockerfile", {}, {}}), base);
    EXPECT_EQ(contentKey({kTree, "Dockerfile", {{"A", "1"}}, {}}), base) << "the same inputs, the same key";
}

TEST(ContentKey, AValueCannotImitateAnotherLine) {
    EXPECT_NE(contentKey({kTree, "Dockerfile", {{"A", "1\nbuild-arg B=2"}}, {}}),
              contentKey({kTree, "Dockerfile", {{"A", "1"}, {"B", "2"}}, {}}));
}

TEST(ContentKey, NamesThePlatformsSortedWhenThereAreAny) {
    // printf 'slipway-content-v1\ntree 4b82...\ndockerfile Dockerfile\nplatform linux/amd64\nplatform linux/arm64\n' | sha256sum
    const std::string both = "sha256:d95b0a69cdccb35a098b2e9f2f3e4a94db0989ecd8389807b7c874f83055231d";
    EXPECT_EQ(contentKey({kTree, "Dockerfile", {}, {parsePlatform("linux/arm64"), parsePlatform("linux/amd64")}}), both);
    EXPECT_EQ(contentKey({kTree, "Dockerfile", {}, {parsePlatform("linux/amd64"), parsePlatform("linux/arm64")}}), both)
        << "the order platforms are listed in is not content";
    // Adding a platform is a change of content; naming none keeps every key made before platforms existed.
    EXPECT_NE(contentKey({kTree, "Dockerfile", {}, {parsePlatform("linux/amd64")}}), both);
    EXPECT_NE(contentKey({kTree, "Dockerfile", {}, {parsePlatform("linux/amd64")}}), contentKey({kTree, "Dockerfile", {}, {}}));
}

}  // namespace
}  // namespace slipway
