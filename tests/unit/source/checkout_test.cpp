#include "daemon/source/checkout.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <Poco/File.h>
#include <Poco/String.h>

#include "daemon/source/git_handles.h"
#include "tests/integration/command.h"
#include "tests/integration/git_fixture.h"
#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

// Every entry under `dir`, never following a link: path -> file content,
// "link -> target" or "folder".
std::map<std::string, std::string> contentOf(const std::string& dir) {
    std::map<std::string, std::string> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        const std::string relative = entry.path().lexically_relative(dir).string();
        if (entry.is_symlink()) {
            found[relative] = "link -> " + std::filesystem::read_symlink(entry.path()).string();
        } else if (entry.is_directory()) {
            found[relative] = "folder";
        } else {
            std::ifstream file(entry.path(), std::ios::binary);
            std::stringstream content;
            content << file.rdbuf();
            found[relative] = content.str();
        }
    }
    return found;
}

struct stat statOf(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info;
}

class CheckoutTest : public ::testing::Test {
protected:
    CheckoutTest() {
        repo_.alias = "exam";
        repo_.url = git_.url();
    }

    Checkout::Lease prepare(Checkout& checkout, const std::string& sha) {
        std::string manifest;
        Checkout::Lease lease = checkout.prepare(repo_, sha, "images.json", 1024, manifest);
        EXPECT_EQ(manifest, "[]");
        return lease;
    }
    // Checks `sha` out and gives the work tree back, as a job that ended does; returns its folder.
    std::string checkOutAndGiveBack(const std::string& sha) { return prepare(checkout_, sha).path(); }
    std::string removeAndCommit(const std::string& path, const std::map<std::string, std::string>& files) {
        Poco::File(dir_.path() + "/repo/" + path).remove(true);
        return git_.commit(files);
    }

    // Records a submodule at `path` (a gitlink to `commit` of another
    // repository) for the next commit, as `git submodule add` would.
    void gitlink(const std::string& path, const std::string& commit) {
        const std::string repo = dir_.path() + "/repo";
        Poco::File(repo + "/" + path).createDirectories();
        testing::mustRun("git", {"-C", repo, "update-index", "--add", "--cacheinfo", "160000," + commit + "," + path});
    }

    GitLibrary library_;
    testing::TempDir dir_;
    testing::GitFixture git_{dir_.path() + "/repo"};
    RepoSettings repo_;
    Checkout checkout_{dir_.path() + "/repos", dir_.path() + "/work", std::chrono::seconds(30)};
};

TEST_F(CheckoutTest, ANewCommitRewritesOnlyTheFilesItChanges) {
    const std::string first =
        git_.commit({{"images.json", "[]"}, {"web/kept", "same"}, {"web/changed", "old"}, {"gone/file", "bye"}});
    const std::string path = checkOutAndGiveBack(first);
    EXPECT_EQ(contentOf(path), (std::map<std::string, std::string>{{"gone", "folder"},
                                                                    {"gone/file", "bye"},
                                                                    {"images.json", "[]"},
                                                                    {"web", "folder"},
                                                                    {"web/changed", "old"},
                                                                    {"web/kept", "same"}}));
    const struct stat kept = statOf(path + "/web/kept");
    const std::string second = removeAndCommit("gone", {{"web/changed", "new"}, {"web/added", "hello"}});

    Checkout::Lease lease = prepare(checkout_, second);
    EXPECT_EQ(lease.path(), path);
    EXPECT_EQ(contentOf(path), (std::map<std::string, std::string>{{"images.json", "[]"},
                                                                    {"web", "folder"},
                                                                    {"web/added", "hello"},
                                                                    {"web/changed", "new"},
                                                                    {"web/kept", "same"}}));
    // The unchanged file is the very one the first checkout wrote.
    const struct stat after = statOf(path + "/web/kept");
    EXPECT_EQ(after.st_ino, kept.st_ino);
    EXPECT_EQ(after.st_mtim.tv_nsec, kept.st_mtim.tv_nsec);
    EXPECT_EQ(after.st_mtim.tv_sec, kept.st_mtim.tv_sec);
}

TEST_F(CheckoutTest, ASubmoduleBecomesAnEmptyFolderAndAKeptWorkTreeWithOneIsStillUpdatedInPlace) {
    const std::string other = "89abcdef0123456789abcdef0123456789abcdef";
    gitlink("vendor/lib", other);        // a folder that holds nothing but the submodule
    gitlink("web/third_party", other);   // beside files of the repository
    const std::string first = git_.commit(
        {{"images.json", "[]"}, {".gitmodules", "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = ../lib.git\n"},
         {"web/kept", "same"}, {"web/changed", "old"}});
    const std::string path = checkOutAndGiveBack(first);
    std::map<std::string, std::string> expected{{".gitmodules", "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = ../lib.git\n"},
                                                {"images.json", "[]"},
                                                {"vendor", "folder"},
                                                {"vendor/lib", "folder"},
                                                {"web", "folder"},
                                                {"web/changed", "old"},
                                                {"web/kept", "same"},
                                                {"web/third_party", "folder"}};
    EXPECT_EQ(contentOf(path), expected);
    const struct stat kept = statOf(path + "/web/kept");

    const std::string second = git_.commit({{"web/changed", "new"}});
    Checkout::Lease lease = prepare(checkout_, second);
    EXPECT_EQ(lease.path(), path);
    expected["web/changed"] = "new";
    EXPECT_EQ(contentOf(path), expected);
    // Not written whole again: the submodule's folder is not taken for a change.
    EXPECT_EQ(statOf(path + "/web/kept").st_ino, kept.st_ino);
    EXPECT_EQ(statOf(path + "/web/kept").st_mtim.tv_nsec, kept.st_mtim.tv_nsec);
}

// The 20 bytes of a 40-digit object id.
std::string rawId(const std::string& hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return bytes;
}

TEST_F(CheckoutTest, ASubmoduleNamedToClimbOutOfTheWorkTreeFailsTheCheckoutAndTouchesNothing) {
    const std::string repo = dir_.path() + "/repo";
    checkOutAndGiveBack(git_.commit({{"images.json", "[]"}}));
    const std::string blob = Poco::trim(testing::mustRun("git", {"-C", repo, "rev-parse", "HEAD:images.json"}));
    // A tree git itself would never make: a gitlink named "..".
    const std::string tree = std::string("160000 ..") + '\0' + rawId("89abcdef0123456789abcdef0123456789abcdef") +
                             "100644 images.json" + '\0' + rawId(blob);
    std::string id;
    ASSERT_EQ(testing::runWithInput("git", {"-C", repo, "hash-object", "-t", "tree", "--literally", "-w", "--stdin"},
                                    tree, id),
              0)
        << id;
    const std::string sha = Poco::trim(testing::mustRun(
        "git", {"-C", repo, "-c", "user.name=t", "-c", "user.email=t@slipway.invalid", "commit-tree", Poco::trim(id),
                "-m", "hostile"}));
    testing::mustRun("git", {"-C", repo, "update-ref", "refs/heads/main", sha});
    // Beside the work tree, where another job's tree would be.
    const std::string canary = dir_.path() + "/work/exam/canary";
    std::ofstream(canary) << "still here";
    std::string manifest;
    try {
        checkout_.prepare(repo_, sha, "images.json", 1024, manifest);
        ADD_FAILURE() << "a submodule named .. was checked out";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("a submodule in / is named '..', which no checkout writes"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(Poco::File(canary).exists()) << "the checkout emptied the folder above its work tree";
}

TEST_F(CheckoutTest, WithSubmodulesOnTheyAreFetchedAndCheckedOutRecursivelyFromTheRepositorysHost) {
    testing::GitFixture deep(dir_.path() + "/deep");
    const std::string deepSha = deep.commit({{"deep.txt", "the bottom"}});
    testing::GitFixture lib(dir_.path() + "/lib");
    const std::string libRepo = dir_.path() + "/lib";
    Poco::File(libRepo + "/inner").createDirectories();
    testing::mustRun("git", {"-C", libRepo, "update-index", "--add", "--cacheinfo", "160000," + deepSha + ",inner"});
    const std::string libSha =
        lib.commit({{"lib.c", "int lib;"}, {".gitmodules", "[submodule \"inner\"]\n\tpath = inner\n\turl = ../deep\n"}});
    gitlink("vendor/lib", libSha);
    const std::string sha = git_.commit(
        {{"images.json", "[]"}, {".gitmodules", "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = ../lib\n"}});
    repo_.submodules = true;

    const std::string path = checkOutAndGiveBack(sha);
    const std::map<std::string, std::string> content = contentOf(path);
    EXPECT_EQ(content.at("vendor/lib/lib.c"), "int lib;");
    EXPECT_EQ(content.at("vendor/lib/inner/deep.txt"), "the bottom");
    // Checked out again, the next job's tree is the same.
    const std::string again = git_.commit({{"images.json", "[]"}, {"new", "file"}});
    Checkout::Lease lease = prepare(checkout_, again);
    EXPECT_EQ(contentOf(lease.path()).at("vendor/lib/inner/deep.txt"), "the bottom");
    EXPECT_EQ(contentOf(lease.path()).at("new"), "file");
}

TEST_F(CheckoutTest, ASubmoduleOnAnotherHostFailsTheCheckoutSayingWhy) {
    gitlink("vendor/lib", "89abcdef0123456789abcdef0123456789abcdef");
    const std::string sha = git_.commit(
        {{"images.json", "[]"},
         {".gitmodules", "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = https://elsewhere.example/lib.git\n"}});
    repo_.submodules = true;
    std::string manifest;
    try {
        checkout_.prepare(repo_, sha, "images.json", 1024, manifest);
        ADD_FAILURE() << "a submodule on another host was fetched";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("submodule vendor/lib: https://elsewhere.example/lib.git is not on "
                                             "file://, the host of the repository"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(CheckoutTest, AFolderThatReplacesASymbolicLinkIsWrittenInTheWorkTreeNotThroughTheLink) {
    const std::string outside = dir_.path() + "/outside";
    Poco::File(outside).createDirectories();
    git_.symlink("svc", outside);
    const std::string linked = git_.commit({{"images.json", "[]"}});
    const std::string path = checkOutAndGiveBack(linked);
    EXPECT_EQ(contentOf(path)["svc"], "link -> " + outside);
    const std::string folder = removeAndCommit("svc", {{"svc/Dockerfile", "FROM scratch\n"}});
    Checkout::Lease lease = prepare(checkout_, folder);
    EXPECT_EQ(contentOf(path),
              (std::map<std::string, std::string>{
                  {"images.json", "[]"}, {"svc", "folder"}, {"svc/Dockerfile", "FROM scratch\n"}}));
    EXPECT_TRUE(contentOf(outside).empty());
}

TEST_F(CheckoutTest, FilesChangedOrAddedInAKeptWorkTreeAreSetBackToTheCommit) {
    const std::string first = git_.commit({{"images.json", "[]"}, {"a", "one"}, {"b", "two"}});
    const std::string path = checkOutAndGiveBack(first);
    std::ofstream(path + "/a") << "tampered with";
    std::ofstream(path + "/stray") << "left here";
    Poco::File(path + "/b").remove();
    const std::string second = git_.commit({{"c", "three"}});

    Checkout::Lease lease = prepare(checkout_, second);
    EXPECT_EQ(contentOf(lease.path()),
              (std::map<std::string, std::string>{{"images.json", "[]"}, {"a", "one"}, {"b", "two"}, {"c", "three"}}));
}

TEST_F(CheckoutTest, AFileThatReplacesACommittedLinkIsWrittenInTheWorkTreeNotThroughTheLink) {
    const std::string outside = dir_.write("outside/secret", "host file");
    git_.symlink("x", outside);
    const std::string linked = git_.commit({{"images.json", "[]"}});
    const std::string path = checkOutAndGiveBack(linked);
    EXPECT_EQ(contentOf(path)["x"], "link -> " + outside);
    const std::string file = removeAndCommit("x", {{"x", "written by the next commit"}});
    Checkout::Lease lease = prepare(checkout_, file);
    EXPECT_EQ(contentOf(path), (std::map<std::string, std::string>{{"images.json", "[]"}, {"x", "written by the next commit"}}));
    EXPECT_EQ(contentOf(dir_.path() + "/outside"), (std::map<std::string, std::string>{{"secret", "host file"}}));
}

TEST_F(CheckoutTest, NothingIsWrittenThroughALinkPutInAKeptWorkTree) {
    const std::string outside = dir_.write("outside/secret", "host file");
    const std::string first = git_.commit({{"images.json", "[]"}, {"changed", "old"}, {"kept", "same"}});
    const std::string path = checkOutAndGiveBack(first);
    // The file the next commit changes becomes a link to a host file.
    Poco::File(path + "/changed").remove();
    ASSERT_EQ(::symlink(outside.c_str(), (path + "/changed").c_str()), 0);
    const std::string second = git_.commit({{"changed", "new"}});

    Checkout::Lease lease = prepare(checkout_, second);
    EXPECT_EQ(contentOf(lease.path()),
              (std::map<std::string, std::string>{{"images.json", "[]"}, {"changed", "new"}, {"kept", "same"}}));
    EXPECT_EQ(contentOf(dir_.path() + "/outside"), (std::map<std::string, std::string>{{"secret", "host file"}}));
}

TEST_F(CheckoutTest, ARestartKeepsNotedWorkTreesAndEmptiesOthers) {
    const std::string first = git_.commit({{"images.json", "[]"}, {"a", "one"}});
    std::string noted;
    std::string cutShort;
    {
        Checkout::Lease one = prepare(checkout_, first);
        Checkout::Lease two = prepare(checkout_, first);
        noted = one.path();
        cutShort = two.path();
    }
    const struct stat kept = statOf(noted + "/a");
    // As a crash in the middle of a checkout leaves it: no note, files of two commits.
    Poco::File(cutShort + ".commit").remove();
    std::ofstream(cutShort + "/half") << "written";
    const std::string second = git_.commit({{"b", "two"}});

    Checkout restarted(dir_.path() + "/repos", dir_.path() + "/work", std::chrono::seconds(30));
    Checkout::Lease lease = prepare(restarted, second);
    EXPECT_EQ(lease.path(), noted);
    EXPECT_EQ(statOf(noted + "/a").st_ino, kept.st_ino);
    EXPECT_EQ(contentOf(noted), (std::map<std::string, std::string>{{"images.json", "[]"}, {"a", "one"}, {"b", "two"}}));
    EXPECT_FALSE(Poco::File(cutShort).exists());
    EXPECT_FALSE(Poco::File(cutShort + ".index").exists());
    // The next new work tree is a fresh one, never the folder that was cut short.
    Checkout::Lease other = prepare(restarted, second);
    EXPECT_NE(other.path(), noted);
    EXPECT_EQ(contentOf(other.path()), contentOf(noted));
}

TEST_F(CheckoutTest, LocksAKilledDaemonLeftAreRemovedAtStartAndTheRepositoryFetchesAgain) {
    const std::string first = git_.commit({{"images.json", "[]"}, {"Cargo.lock", "kept"}});
    const std::string tree = checkOutAndGiveBack(first);
    // As a kill -9 in the middle of updating a reference and an index leaves them.
    const std::string refLock = dir_.path() + "/repos/exam.git/refs/slipway/fetched.lock";
    std::ofstream(refLock) << "half";
    std::ofstream(tree + ".index.lock") << "half";
    const std::string second = git_.commit({{"b", "two"}});
    EXPECT_THROW(prepare(checkout_, second), std::exception) << "a stale lock no longer blocks the fetch";

    Checkout restarted(dir_.path() + "/repos", dir_.path() + "/work", std::chrono::seconds(30));
    const std::vector<std::string> removed = restarted.removeStaleLocks();
    EXPECT_EQ(removed.size(), 2u);
    EXPECT_FALSE(Poco::File(refLock).exists());
    EXPECT_FALSE(Poco::File(tree + ".index.lock").exists());
    Checkout::Lease lease = prepare(restarted, second);
    EXPECT_EQ(contentOf(lease.path()).at("b"), "two");
    EXPECT_EQ(contentOf(lease.path()).at("Cargo.lock"), "kept") << "a file of the repository was taken for a lock";
}

TEST_F(CheckoutTest, JobsOfOneRepositoryAtOnceHaveWorkTreesOfTheirOwnThenShareThem) {
    const std::string first = git_.commit({{"images.json", "[]"}, {"a", "one"}});
    const std::string second = git_.commit({{"a", "two"}});
    std::string paths[2];
    {
        Checkout::Lease one = prepare(checkout_, first);
        Checkout::Lease two = prepare(checkout_, second);
        EXPECT_NE(one.path(), two.path());
        EXPECT_EQ(contentOf(one.path())["a"], "one");
        EXPECT_EQ(contentOf(two.path())["a"], "two");
        paths[0] = one.path();
        paths[1] = two.path();
    }
    // A retry of a commit gets the work tree already at that commit.
    EXPECT_EQ(prepare(checkout_, first).path(), paths[0]);
    EXPECT_EQ(prepare(checkout_, second).path(), paths[1]);
    std::vector<std::string> names;
    Poco::File(dir_.path() + "/work/exam").list(names);
    EXPECT_EQ(names.size(), 6u) << "two folders, each with its index and note";
}

TEST_F(CheckoutTest, PrunesTheMirrorsAndWorkTreesOfRepositoriesNoLongerConfigured) {
    dir_.write("repos/kept.git/HEAD", "ref: refs/heads/main\n");
    dir_.write("repos/gone.git/HEAD", "ref: refs/heads/main\n");
    dir_.write("work/kept/0/file", "kept");
    dir_.write("work/gone/0/file", "gone");
    dir_.write("work/job-7/file", "left by an older slipwayd");
    RepoSettings kept;
    kept.alias = "kept";
    EXPECT_EQ(checkout_.pruneUnconfigured({kept}), std::vector<std::string>{"gone.git"});
    EXPECT_TRUE(Poco::File(dir_.path() + "/repos/kept.git").exists());
    EXPECT_FALSE(Poco::File(dir_.path() + "/repos/gone.git").exists());
    std::vector<std::string> work;
    Poco::File(dir_.path() + "/work").list(work);
    EXPECT_EQ(work, std::vector<std::string>{"kept"});
}

}  // namespace
}  // namespace slipway
