#include "backends/context_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace slipway {
namespace {

struct Entry {
    unsigned type = 0;
    unsigned mode = 0;
    long long uid = -1;
    std::string content;
    std::string symlink;
};

struct ArchiveReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};

// The entries of tar `bytes` by path, read back with libarchive.
std::map<std::string, Entry> entriesOf(const std::string& bytes) {
    std::unique_ptr<archive, ArchiveReadFree> reader(archive_read_new());
    archive_read_support_format_tar(reader.get());
    EXPECT_EQ(archive_read_open_memory(reader.get(), bytes.data(), bytes.size()), ARCHIVE_OK);
    std::map<std::string, Entry> entries;
    archive_entry* header = nullptr;
    int status = ARCHIVE_OK;
    while ((status = archive_read_next_header(reader.get(), &header)) == ARCHIVE_OK) {
        Entry entry;
        entry.type = archive_entry_filetype(header);
        entry.mode = archive_entry_perm(header);
        entry.uid = archive_entry_uid(header);
        if (archive_entry_symlink(header)) entry.symlink = archive_entry_symlink(header);
        char buffer[8192];
        la_ssize_t n = 0;
        while ((n = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0) {
            entry.content.append(buffer, static_cast<std::size_t>(n));
        }
        EXPECT_GE(n, 0) << archive_error_string(reader.get());
        entries[archive_entry_pathname(header)] = entry;
    }
    EXPECT_EQ(status, ARCHIVE_EOF) << archive_error_string(reader.get());
    return entries;
}

class ContextTarTest : public ::testing::Test {
protected:
    std::map<std::string, Entry> tar() {
        std::ostringstream out;
        writeContextTar(dir_.path(), "Dockerfile", out);
        return entriesOf(out.str());
    }

    void symlink(const std::string& target, const std::string& relative) {
        ASSERT_EQ(::symlink(target.c_str(), (dir_.path() + "/" + relative).c_str()), 0);
    }

    testing::TempDir dir_;
};

// Folders are named with a trailing slash, as in any tar the docker CLI sends.
TEST_F(ContextTarTest, HoldsTheFolderRelativeToItself) {
    dir_.write("Dockerfile", "FROM scratch\n");
    dir_.write("payload.txt", "payload\n");
    dir_.write("sub/dir/deep.txt", "deep\n");
    const std::string big(200 * 1024 + 7, 'b');
    dir_.write("big.bin", big);
    const std::string script = dir_.write("run.sh", "#!/bin/sh\n");
    ::chmod(script.c_str(), 0755);

    const auto entries = tar();
    EXPECT_EQ(entries.size(), 7u);
    EXPECT_EQ(entries.at("Dockerfile").content, "FROM scratch\n");
    EXPECT_EQ(entries.at("payload.txt").content, "payload\n");
    EXPECT_EQ(entries.at("sub/").type, AE_IFDIR);
    EXPECT_EQ(entries.at("sub/dir/").type, AE_IFDIR);
    EXPECT_EQ(entries.at("sub/dir/deep.txt").content, "deep\n");
    EXPECT_EQ(entries.at("big.bin").content, big);
    EXPECT_EQ(entries.at("run.sh").mode, 0755u);
    EXPECT_EQ(entries.at("payload.txt").uid, 0);
}

TEST_F(ContextTarTest, KeepsSymbolicLinksAsLinksAndNeverFollowsThem) {
    dir_.write("Dockerfile", "FROM scratch\n");
    symlink("/etc/passwd", "passwd");
    symlink("/etc", "etc");
    symlink("../../outside", "relative");

    const auto entries = tar();
    EXPECT_EQ(entries.size(), 4u) << "a linked folder was walked";
    EXPECT_EQ(entries.at("passwd").type, AE_IFLNK);
    EXPECT_EQ(entries.at("passwd").symlink, "/etc/passwd");
    EXPECT_EQ(entries.at("passwd").content, "");
    EXPECT_EQ(entries.at("etc").type, AE_IFLNK);
    EXPECT_EQ(entries.at("etc").symlink, "/etc");
    EXPECT_EQ(entries.at("relative").symlink, "../../outside");
}

TEST_F(ContextTarTest, LeavesOutWhatDockerIgnoreExcludes) {
    dir_.write("Dockerfile", "FROM scratch\n");
    dir_.write(".dockerignore", "# not sent\n*.log\nsecrets\nvendor\n!vendor/keep.txt\n**/*.tmp\n");
    dir_.write("app.log", "log\n");
    dir_.write("app.txt", "app\n");
    dir_.write("secrets/key.pem", "key\n");
    dir_.write("vendor/keep.txt", "keep\n");
    dir_.write("vendor/drop.txt", "drop\n");
    dir_.write("a/b/c.tmp", "tmp\n");

    const auto entries = tar();
    std::vector<std::string> paths;
    for (const auto& [path, entry] : entries) paths.push_back(path);
    EXPECT_EQ(paths, (std::vector<std::string>{".dockerignore", "Dockerfile", "a/", "a/b/", "app.txt",
                                               "vendor/keep.txt"}));
}

TEST_F(ContextTarTest, AlwaysSendsTheDockerfileAndDockerIgnore) {
    dir_.write("Dockerfile", "FROM scratch\n");
    dir_.write(".dockerignore", "*\n");
    dir_.write("payload.txt", "payload\n");

    const auto entries = tar();
    EXPECT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries.count("Dockerfile"), 1u);
    EXPECT_EQ(entries.count(".dockerignore"), 1u);
}

TEST_F(ContextTarTest, RefusesADockerIgnoreThatIsALink) {
    dir_.write("Dockerfile", "FROM scratch\n");
    symlink("/etc/passwd", ".dockerignore");
    std::ostringstream out;
    try {
        writeContextTar(dir_.path(), "Dockerfile", out);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(".dockerignore: it is a symbolic link"), std::string::npos) << e.what();
    }
}

TEST_F(ContextTarTest, RefusesWhatIsNeitherAFileAFolderNorALinkNamingIt) {
    dir_.write("Dockerfile", "FROM scratch\n");
    ASSERT_EQ(::mkfifo((dir_.path() + "/pipe").c_str(), 0600), 0);
    std::ostringstream out;
    try {
        writeContextTar(dir_.path(), "Dockerfile", out);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot send pipe in " + dir_.path()), std::string::npos) << e.what();
    }
}

TEST_F(ContextTarTest, ReportsAStreamThatFails) {
    dir_.write("Dockerfile", "FROM scratch\n");
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    try {
        writeContextTar(dir_.path(), "Dockerfile", out);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("the stream it goes to failed"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace slipway
