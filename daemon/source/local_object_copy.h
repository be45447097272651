#pragma once

#include <cstddef>
#include <string>

#include <git2.h>

namespace slipway {

// Copies commit `commit` and every object it needs that `mirror` lacks from
// the repository at `sourcePath` on this machine, object by object, without
// a pack. For a file:// remote, libgit2 1.5's own fetch packs every object
// reachable from the wanted commit, whatever the mirror already has (its
// local transport sends no "haves"): 5 s for one new commit of a 50 MB
// repository, against 50 ms for this.
//
// Relies on the mirror holding, with any commit or tree, everything it
// reaches (true of what a fetch brings, and kept here by writing an object
// only after everything it points to). Returns false, having written
// nothing that breaks that rule, when the source lacks the commit or when
// more than `maxObjects` would be copied (a fetch's pack is better then).
// Throws GitError when a repository cannot be read or written.
bool copyFromLocalRepository(git_repository* mirror, const std::string& sourcePath, const git_oid& commit,
                             std::size_t maxObjects);

}  // namespace slipway
