#pragma once

#include <string>
#include <vector>

namespace slipway {

// A folder kept from job to job that holds the tree of one commit of a
// repository, so that the next job rewrites only the files its commit
// changes. Beside the folder (never inside a build context) are libgit2's
// index of it, which tells which files still match the tree they came from,
// and a note naming that commit. The note is dropped before the folder
// changes and written after, so a folder a crash left half written is never
// taken for a commit's tree. The files themselves are not synced: after a
// power cut, a file that is not what the index says (its size or time differ)
// makes the next checkout empty the folder and write it whole.
class WorkTree {
public:
    // The files in `path`, the index in `path`.index, the note in `path`.commit.
    explicit WorkTree(std::string path);

    const std::string& path() const { return path_; }
    std::string indexPath() const { return path_ + ".index"; }

    // The commit whose tree the folder holds, or "" when that is not known.
    std::string commit() const;
    // Whether the folder holds exactly the files its index lists, each with
    // the type, size, inode and modification time it had when written: nothing
    // was added, removed, changed or replaced by a link since. The folders of
    // `gitlinks` (the submodules of the commit it holds, which the index does
    // not list) may be there; what is in them is written anew by each
    // checkout, so it is not looked at.
    bool unchanged(const std::vector<std::string>& gitlinks = {}) const;
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
