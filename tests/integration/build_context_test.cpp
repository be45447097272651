#include <sys/stat.h>
#include <unistd.h>

#include <Poco/File.h>

#include "tests/integration/command.h"
#include "tests/integration/docker_engine.h"
#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

// The build context is the service's folder and nothing else, whichever backend sends it.
using BuildContext = PipelineTest;

TEST_P(BuildContext, ALinkToAHostFileReachesTheImageAsALinkNeverAsTheFile) {
    const std::string name = unique("linked");
    git_->symlink(name + "/passwd", "/etc/passwd");
    const std::string sha = git_->commit(
        {{name + "/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() + "\nCOPY . /ctx/\n"},
         {"images.json", R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": "1"}])"}});
    const std::string image = IntegrationEnvironment::registry().host() + "/" + name + ":1";
    SlipwayProcess& daemon = startDaemon("[builder]\nkeep_images = true\n");
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "link-" + GetParam()));
    ASSERT_EQ(job->getValue<std::string>("state"), "succeeded") << daemon.output();

    struct ImageRemover {
        std::string image;
        ~ImageRemover() { DockerEngine::removeImage(image); }
    } remover{image};
    ASSERT_TRUE(DockerEngine::imageExists(image));
    const std::string copied = dir_.path() + "/copied-passwd";
    {
        const InspectionContainer container(image);
        container.copyOut("/ctx/passwd", copied);
    }
    struct stat info {};
    ASSERT_EQ(::lstat(copied.c_str(), &info), 0) << "nothing at /ctx/passwd in " << image;
    ASSERT_TRUE(S_ISLNK(info.st_mode)) << "/ctx/passwd in the image is the host's file, not a link";
    char target[256] = {};
    ASSERT_GT(::readlink(copied.c_str(), target, sizeof target - 1), 0);
    EXPECT_STREQ(target, "/etc/passwd");
}

// A Dockerfile that .dockerignore lists is still sent (the build would not find
// it otherwise); the engine then keeps it out of what COPY sees.
TEST_P(BuildContext, DockerIgnoreLeavesFilesOutButNeverTheDockerfile) {
    const std::string name = unique("ignoring");
    const std::string sha = git_->commit(
        {{name + "/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() +
                                    "\nCOPY . /ctx/\nRUN test -e /ctx/kept.txt && test ! -e /ctx/secret.txt"
                                    " && test ! -e /ctx/build/out.o\n"},
         {name + "/.dockerignore", "# not for the image\nsecret.txt\nbuild\nDockerfile\n"},
         {name + "/kept.txt", "kept\n"},
         {name + "/secret.txt", "secret\n"},
         {name + "/build/out.o", "object\n"},
         {"images.json", R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": "1"}])"}});
    SlipwayProcess& daemon = startDaemon();
    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "ignore-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "succeeded") << daemon.output();
    EXPECT_EQ(IntegrationEnvironment::registry().tags(name), std::vector<std::string>{"1"});
}

// A repository with submodules, as projects that vendor a library have: by
// default each is an empty folder, as in GitHub's archives, and the build goes
// on; with submodules = true its files are there.
TEST_P(BuildContext, SubmodulesAreEmptyFoldersUnlessTheRepositoryAsksForThem) {
    const std::string name = unique("submodules");
    GitFixture lib(dir_.path() + "/lib");
    const std::string libSha = lib.commit({{"lib.c", "int lib;\n"}});
    const std::string repo = dir_.path() + "/repo";
    for (const std::string& path : {std::string("vendor/lib"), name + "/third_party"}) {
        Poco::File(repo + "/" + path).createDirectories();
        mustRun("git", {"-C", repo, "update-index", "--add", "--cacheinfo", "160000," + libSha + "," + path});
    }
    const std::string gitmodules = "[submodule \"vendor\"]\n\tpath = vendor/lib\n\turl = ../lib\n"
                                   "[submodule \"third\"]\n\tpath = " + name + "/third_party\n\turl = ../lib\n";
    const std::string empty = git_->commit(
        {{".gitmodules", gitmodules},
         {name + "/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() +
                                    "\nCOPY . /ctx/\nRUN test -d /ctx/third_party && test -z \"$(ls -A /ctx/third_party)\"\n"},
         {"images.json", R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": "1"}])"}});
    SlipwayProcess& daemon = startDaemon();
    EXPECT_EQ(daemon.waitForJob(deliverMerge(empty, "submodules-empty-" + GetParam()))->getValue<std::string>("state"),
              "succeeded")
        << daemon.output();

    const std::string filled = git_->commit(
        {{name + "/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() +
                                    "\nCOPY . /ctx/\nRUN grep -q 'int lib;' /ctx/third_party/lib.c\n"},
         {"images.json", R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": "2"}])"}});
    DaemonOptions options = defaultOptions();
    options.extraIni = "[repo.mono]\nsubmodules = true\n";
    daemon_.reset();  // the same state folder: one slipwayd at a time
    SlipwayProcess& fetching = startDaemon(options);
    EXPECT_EQ(fetching.waitForJob(deliverMerge(filled, "submodules-filled-" + GetParam()))->getValue<std::string>("state"),
              "succeeded")
        << fetching.output();
    EXPECT_EQ(IntegrationEnvironment::registry().tags(name), (std::vector<std::string>{"1", "2"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, BuildContext, ::testing::Values("cli", "api"));

}  // namespace
}  // namespace slipway::testing
