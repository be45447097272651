#include "daemon/pipeline/release.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

const std::string kTree = "3f2a0000000000000000000000000000000000aa";
const std::string kCommit = "9c1e0000000000000000000000000000000000bb";
const std::string kDigest = "sha256:" + std::string(64, 'e');

ReleaseCandidate candidate(const std::string& key, const std::string& tree) { return {"api", "1.4.2", key, tree}; }

PublishedImage published(const std::string& key, const std::string& tree) {
    return {kDigest,
            {{kLabelContentKey, key}, {kLabelTree, tree}, {kLabelRevision, kCommit}, {kLabelBuild, "812"}},
            false,
            {}};
}

TEST(Release, BuildsATagThatIsAbsent) {
    EXPECT_EQ(decideRelease(candidate("sha256:1", kTree), std::nullopt).action, ReleaseAction::Build);
}

TEST(Release, ReusesATagFromTheSameContentWithTheRegistrysDigest) {
    const ReleaseDecision decision = decideRelease(candidate("sha256:1", kTree), published("sha256:1", kTree));
    EXPECT_EQ(decision.action, ReleaseAction::Reuse);
    EXPECT_EQ(decision.digest, kDigest);
    EXPECT_EQ(decision.reason, "not rebuilt: api:1.4.2 is already published from the same content (sha256:1), digest " +
                                   kDigest);
}

TEST(Release, RefusesOtherContentSayingWhereTheTagCameFromAndWhatToDo) {
    const std::string newTree = "77b0000000000000000000000000000000000000";
    const ReleaseDecision decision = decideRelease(candidate("sha256:2", newTree), published("sha256:1", kTree));
    EXPECT_EQ(decision.action, ReleaseAction::Refuse);
    EXPECT_EQ(decision.reason,
              "api:1.4.2 is already published from tree 3f2a00000000 (commit 9c1e00000000, build 812); this commit "
              "changes api/ (tree 77b000000000): bump its version in images.json");
}

TEST(Release, SaysWhenOnlyTheWayOfBuildingChanged) {
    const ReleaseDecision decision = decideRelease(candidate("sha256:2", kTree), published("sha256:1", kTree));
    EXPECT_EQ(decision.action, ReleaseAction::Refuse);
    EXPECT_NE(decision.reason.find("this commit builds api/ differently (its dockerfile, build_args or platforms changed)"),
              std::string::npos)
        << decision.reason;
}

TEST(Release, RefusesATagWithoutSlipwaysLabelOrAnIndex) {
    PublishedImage foreign{kDigest, {}, false, {}};
    ReleaseDecision decision = decideRelease(candidate("sha256:1", kTree), foreign);
    EXPECT_EQ(decision.action, ReleaseAction::Refuse);
    EXPECT_NE(decision.reason.find("api:1.4.2 is already published, but not by slipway (its image has no "
                                   "io.slipway.content-key label"),
              std::string::npos)
        << decision.reason;
    EXPECT_NE(decision.reason.find("or set builder.republish = overwrite"), std::string::npos) << decision.reason;
    foreign.index = true;
    decision = decideRelease(candidate("sha256:1", kTree), foreign);
    EXPECT_NE(decision.reason.find("it is a multi-platform index"), std::string::npos) << decision.reason;
}

}  // namespace
}  // namespace slipway
