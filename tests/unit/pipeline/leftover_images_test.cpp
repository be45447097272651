#include "daemon/pipeline/leftover_images.h"

#include <sstream>

#include <gtest/gtest.h>

#include "daemon/pipeline/release.h"
#include "tests/support/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// The engine's local tags, and what was removed; it builds and pushes nothing.
class TaggedEngine : public Backend {
public:
    void build(const BuildRequest&, std::ostream&) override { throw std::logic_error("not built here"); }
    std::string push(const std::string&, std::ostream&) override { throw std::logic_error("not pushed here"); }
    void remove(const std::string& image, std::ostream&) override { removed.push_back(image); }
    std::vector<LocalImage> taggedImages(const std::string& label, const std::string& value) override {
        std::vector<LocalImage> found;
        for (const LocalImage& image : images) {
            const auto it = image.labels.find(label);
            if (it != image.labels.end() && it->second == value) found.push_back(image);
        }
        return found;
    }
    Platform ping() override { return {"linux", "amd64", ""}; }
    Platform imagePlatform(const std::string&) override { return {"linux", "amd64", ""}; }
    void abort() override {}

    std::vector<LocalImage> images;
    std::vector<std::string> removed;
};

class LeftoverImagesTest : public ::testing::Test {
protected:
    LeftoverImagesTest() { jobId_ = testing::runningTestJob(store_, "d1"); }

    // A build of `service` in `state`, and its image tagged on the engine under `instance`.
    std::int64_t built(const std::string& service, RunState state, const std::string& instance) {
        const Build b = testing::testBuild(jobId_, service);
        const std::int64_t id = store_.addBuild(b);
        if (state != RunState::Queued) store_.startBuild(id);
        if (isFinished(state)) store_.finishBuild(id, state, "", state == RunState::Failed ? "interrupted" : "");
        engine_.images.push_back(
            {b.image, {{kLabelInstance, instance}, {kLabelBuild, std::to_string(id)}, {kLabelVersion, "1"}}});
        return id;
    }

    testing::TempDir dir_;
    testing::TestClock clock_;
    Store store_{dir_.path() + "/slipway.db", clock_};
    TaggedEngine engine_;
    std::ostringstream log_;
    std::int64_t jobId_ = 0;
};

TEST_F(LeftoverImagesTest, RemovesTheTagsOfItsOwnBuildsThatEndedAndNoOthers) {
    const std::string own = store_.instanceId();
    ASSERT_EQ(own.size(), 32u);
    built("failed", RunState::Failed, own);         // cut short, then failed for good: left behind
    built("pushed", RunState::Succeeded, own);      // its removal after the push did not happen
    built("running", RunState::Running, own);       // its job removes it
    built("theirs", RunState::Failed, "0123456789abcdef0123456789abcdef");  // another slipwayd's
    engine_.images.push_back({"localhost:5443/by-hand:1", {{kLabelInstance, own}}});  // no build id: not a build's

    EXPECT_EQ(removeLeftoverTags(engine_, store_, own, false, log_),
              (std::vector<std::string>{"localhost:5443/failed:1", "localhost:5443/pushed:1"}));
    EXPECT_EQ(engine_.removed, (std::vector<std::string>{"localhost:5443/failed:1", "localhost:5443/pushed:1"}));
}

TEST_F(LeftoverImagesTest, KeepsASucceededBuildsTagWhenImagesAreKept) {
    const std::string own = store_.instanceId();
    built("failed", RunState::Failed, own);
    built("kept", RunState::Succeeded, own);
    // A build retention removed from the store: its image was kept too.
    engine_.images.push_back({"localhost:5443/pruned:1", {{kLabelInstance, own}, {kLabelBuild, "999"}}});
    EXPECT_EQ(removeLeftoverTags(engine_, store_, own, true, log_),
              std::vector<std::string>{"localhost:5443/failed:1"});
}

TEST(StoreInstance, IsMadeOnceWithTheDatabaseAndKept) {
    testing::TempDir dir;
    testing::TestClock clock;
    std::string first;
    {
        Store store(dir.path() + "/slipway.db", clock);
        first = store.instanceId();
    }
    Store reopened(dir.path() + "/slipway.db", clock);
    EXPECT_EQ(reopened.instanceId(), first);
    testing::TempDir other;
    EXPECT_NE(Store(other.path() + "/slipway.db", clock).instanceId(), first);
}

}  // namespace
}  // namespace slipway
