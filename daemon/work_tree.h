#pragma once

#include <string>

namespace slipway {

// A folder kept from job to job that holds the tree of one commit of a
// repository, so that the next job rewrites only the files its commit
// changes. Beside the folder (never inside a build context) are libgit2's
// index of it, which tells which files still match the tree they came from,
// and a note naming that commit. The note is dropped before the folder
// changes and written after, so a folder a crash left half written is never
// taken for a commit's tree.
class WorkTree {
public:
    // The files in `path`, the index in `path`.index, the note in `path`.commit.
    explicit WorkTree(std::string path);

    const std::string& path() const { return path_; }
    std::string indexPath() const { return path_ + ".index"; }

    // The commit whose tree the folder holds, or "" when that is not known.
    std::string commit() const;
    // Drops the note; call before the folder changes.
    void forget() const;
    // Notes, durably, that the folder now holds the tree of `sha`.
    void remember(const std::string& sha) const;
    // Leaves an empty folder with no index and no note.
    void clear() const;
    // Removes the folder, its index and its note.
    void remove() const;

private:
    std::string notePath() const { return path_ + ".commit"; }

    std::string path_;
};

}  // namespace slipway
