#include <unistd.h>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/String.h>

#include "tests/integration/command.h"
#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

using HostileRepository = PipelineTest;

std::string errorOf(const Poco::JSON::Object::Ptr& object) {
    return object->isNull("error") ? std::string() : object->getValue<std::string>("error");
}

TEST_P(HostileRepository, EveryHostileServiceIsRefusedAloneAndNoHostFileIsRead) {
    const std::string good = unique("hostile-good");
    const std::string escape = unique("hostile-escape");
    const std::string linked = unique("hostile-linked");
    git_->symlink(escape, "/etc");                           // the service folder points out of the checkout
    git_->symlink(linked + "/Dockerfile", "/etc/passwd");    // the Dockerfile is a host file
    const std::vector<std::pair<std::string, std::string>> hostile = {
        {escape, "1"}, {linked, "1"}, {"../x", "1"}, {"-rf", "1"}, {"a/../../b", "1"}, {"/etc", "1"},
        {"Upper", "1"}, {"with space", "1"}, {good, "--help"}, {good, "1;rm -rf /"}, {good, "1"}, {good, "2"}};
    const std::string sha = git_->commit(files({service(good), {{"images.json", imagesJson(hostile)}}}));
    SlipwayProcess& daemon = startDaemon();

    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "hostile-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "failed");
    Poco::JSON::Array::Ptr builds = job->getArray("builds");
    ASSERT_EQ(builds->size(), hostile.size());
    std::map<std::string, std::string> errors;  // "name:version" -> error
    for (std::size_t i = 0; i < builds->size(); ++i) {
        Poco::JSON::Object::Ptr b = builds->getObject(static_cast<unsigned>(i));
        errors[hostile[i].first + ":" + hostile[i].second] = errorOf(b);
        const std::string expected = hostile[i].first == good && hostile[i].second == "1" ? "succeeded" : "failed";
        EXPECT_EQ(b->getValue<std::string>("state"), expected) << hostile[i].first << ":" << hostile[i].second;
        // Nothing of /etc/passwd reached a log.
        const HttpAnswer log = daemon.get("/api/builds/" + std::to_string(b->getValue<std::int64_t>("id")) + "/log");
        EXPECT_EQ(log.body.find("root:x:0:0"), std::string::npos) << log.body;
    }
    EXPECT_NE(errors[escape + ":1"].find(escape + " is a symbolic link"), std::string::npos) << errors[escape + ":1"];
    EXPECT_NE(errors[linked + ":1"].find(linked + "/Dockerfile is not a regular file"), std::string::npos)
        << errors[linked + ":1"];
    for (const char* name : {"../x", "-rf", "a/../../b", "/etc", "Upper", "with space"}) {
        EXPECT_NE(errors[std::string(name) + ":1"].find("service_name must be a relative folder"), std::string::npos)
            << name << ": " << errors[std::string(name) + ":1"];
    }
    EXPECT_NE(errors[good + ":--help"].find("is not a Docker tag"), std::string::npos);
    EXPECT_NE(errors[good + ":1;rm -rf /"].find("is not a Docker tag"), std::string::npos);
    EXPECT_NE(errors[good + ":2"].find("appears more than once"), std::string::npos) << errors[good + ":2"];
    EXPECT_EQ(IntegrationEnvironment::registry().tags(good), std::vector<std::string>{"1"});
    EXPECT_TRUE(IntegrationEnvironment::registry().tags(escape).empty());
    EXPECT_TRUE(IntegrationEnvironment::registry().tags(linked).empty());

    // The next commit makes the link a real folder. The work tree kept from
    // the job above gets that folder; nothing is written through the old link.
    Poco::File(dir_.path() + "/repo/" + escape).remove();
    const std::string fixed = git_->commit(files({service(escape), {{"images.json", imagesJson({{escape, "2"}})}}}));
    const Poco::JSON::Object::Ptr next = daemon.waitForJob(deliverMerge(fixed, "hostile-fixed-" + GetParam()));
    EXPECT_EQ(next->getValue<std::string>("state"), "succeeded") << errorOf(next);
    EXPECT_EQ(IntegrationEnvironment::registry().tags(escape), std::vector<std::string>{"2"});
    EXPECT_FALSE(Poco::File("/etc/Dockerfile").exists());
    EXPECT_FALSE(Poco::File("/etc/payload.txt").exists());
}

TEST_P(HostileRepository, AnImagesJsonThatIsHugeDeepOrALinkFailsTheJobSayingWhy) {
    SlipwayProcess& daemon = startDaemon();
    struct Case {
        std::string name;
        std::string expected;
    };
    const std::string huge(50 * 1024 * 1024, ' ');
    const std::string deep = std::string(10000, '[') + std::string(10000, ']');
    int n = 0;
    for (const auto& [content, expected] : std::vector<std::pair<std::string, std::string>>{
             {"[" + huge + "]", "is 52428802 bytes, over the limit of 1048576"},
             {deep, "images.json is not valid JSON"}}) {
        const std::string sha = git_->commit({{"images.json", content}}, "case " + std::to_string(n));
        const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "manifest-" + std::to_string(n++) + GetParam()));
        EXPECT_EQ(job->getValue<std::string>("state"), "failed");
        EXPECT_NE(errorOf(job).find(expected), std::string::npos) << errorOf(job);
        EXPECT_EQ(job->getArray("builds")->size(), 0u);
    }
    Poco::File(dir_.path() + "/repo/images.json").remove();
    git_->symlink("images.json", "/etc/passwd");
    const std::string sha = git_->commit({}, "images.json is a link");
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "manifest-link" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "failed");
    EXPECT_NE(errorOf(job).find("images.json in commit " + sha.substr(0, 12) + " is not a regular file"), std::string::npos)
        << errorOf(job);
}

// A failed build removes the images it made; a RUN step that prints
// " ---> <id>" of another image on the build host must not get it removed.
TEST_P(HostileRepository, ARunStepThatNamesAnImageOfTheHostCannotHaveItRemoved) {
    const std::string victim = "slipway-test-victim-" + GetParam() + ":" + std::to_string(::getpid());
    DockerEngine::importBaseImage(victim, dir_.path() + "/victim");
    struct Remover {
        std::string image;
        ~Remover() { DockerEngine::removeImage(image); }
    } remover{victim};
    const std::string id = Poco::trim(mustRun("docker", {"image", "inspect", "--format", "{{.Id}}", victim}));
    const std::string shortId = id.substr(std::string("sha256:").size(), 12);
    const std::string name = unique("names-a-victim");
    const std::string sha = git_->commit(
        {{name + "/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() + "\nRUN echo ' ---> " + shortId +
                                    "' && false\n"},
         {"images.json", imagesJson({{name, "1"}})}});
    SlipwayProcess& daemon = startDaemon();
    EXPECT_EQ(daemon.waitForJob(deliverMerge(sha, "victim-" + GetParam()))->getValue<std::string>("state"), "failed");
    EXPECT_TRUE(DockerEngine::imageExists(victim)) << "the build's output had " << victim << " removed";
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileRepository, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
