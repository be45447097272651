#include "daemon/source/local_object_copy.h"

#include <vector>

#include "daemon/source/git_handles.h"

namespace slipway {
namespace {

struct Pending {
    git_oid id;
    bool expanded;  // its children are on the stack above it (or present already)
};

std::string hex(const git_oid& id) {
    char text[GIT_OID_HEXSZ + 1];
    git_oid_tostr(text, sizeof text, &id);
    return text;
}

}  // namespace

bool copyFromLocalRepository(git_repository* mirror, const std::string& sourcePath, const git_oid& commit,
                             std::size_t maxObjects) {
    git_repository* opened = nullptr;
    checkGit(git_repository_open_ext(&opened, sourcePath.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr),
             "opening " + sourcePath);
    GitRepository source(opened);
    git_odb* odb = nullptr;
    checkGit(git_repository_odb(&odb, source.get()), "object database of " + sourcePath);
    GitOdb from(odb);
    checkGit(git_repository_odb(&odb, mirror), "object database of the mirror");
    GitOdb to(odb);
    if (!git_odb_exists(from.get(), &commit)) return false;

    // Depth first, each object written after everything it points to (a
    // blob points to nothing: it is written when first read), so that a copy
    // cut short leaves only objects whose closure is complete.
    std::vector<Pending> stack{{commit, false}};
    std::size_t copied = 0;
    while (!stack.empty()) {
        Pending& top = stack.back();
        if (git_odb_exists(to.get(), &top.id)) {
            stack.pop_back();
            continue;
        }
        const git_oid id = top.id;
        git_odb_object* raw = nullptr;
        checkGit(git_odb_read(&raw, from.get(), &id), "reading " + hex(id) + " from " + sourcePath);
        GitOdbObject object(raw);
        const git_object_t type = git_odb_object_type(object.get());
        if (!top.expanded && type != GIT_OBJECT_BLOB) {
            top.expanded = true;
            std::vector<git_oid> children;
            if (type == GIT_OBJECT_COMMIT) {
                git_commit* c = nullptr;
                checkGit(git_commit_lookup(&c, source.get(), &id), "commit " + hex(id));
                GitCommit owned(c);
                children.push_back(*git_commit_tree_id(owned.get()));
                for (unsigned i = 0; i < git_commit_parentcount(owned.get()); ++i) {
                    children.push_back(*git_commit_parent_id(owned.get(), i));
                }
            } else if (type == GIT_OBJECT_TREE) {
                git_tree* t = nullptr;
                checkGit(git_tree_lookup(&t, source.get(), &id), "tree " + hex(id));
                GitTree owned(t);
                for (std::size_t i = 0; i < git_tree_entrycount(owned.get()); ++i) {
                    const git_tree_entry* entry = git_tree_entry_byindex(owned.get(), i);
                    // A submodule's commit lives in another repository.
                    if (git_tree_entry_type(entry) == GIT_OBJECT_COMMIT) continue;
                    children.push_back(*git_tree_entry_id(entry));
                }
            } else if (type == GIT_OBJECT_TAG) {
                git_tag* t = nullptr;
                checkGit(git_tag_lookup(&t, source.get(), &id), "tag " + hex(id));
                GitTag owned(t);
                children.push_back(*git_tag_target_id(owned.get()));
            }
            // `top` may move as the stack grows: it is not used past here.
            for (const git_oid& child : children) {
                if (!git_odb_exists(to.get(), &child)) stack.push_back({child, false});
            }
            continue;
        }
        // Counted as written, so that a copy that grows too big stops early.
        if (++copied > maxObjects) return false;
        git_oid written;
        checkGit(git_odb_write(&written, to.get(), git_odb_object_data(object.get()), git_odb_object_size(object.get()),
                               type),
                 "writing " + hex(id) + " into the mirror");
        stack.pop_back();
    }
    return true;
}

}  // namespace slipway
