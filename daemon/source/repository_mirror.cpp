#include "daemon/source/repository_mirror.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <set>
#include <vector>

#include <git2/sys/repository.h>

#include <Poco/File.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "daemon/source/fetch_deadline.h"
#include "daemon/source/local_object_copy.h"

namespace slipway {
namespace {

struct FetchContext {
    const std::string* token;
    std::chrono::steady_clock::time_point deadline;
    bool timedOut = false;
};

int credentials(git_credential** out, const char* /*url*/, const char* /*username*/,
                unsigned int allowed, void* payload) {
    auto* context = static_cast<FetchContext*>(payload);
    if (context->token->empty() || !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) return GIT_PASSTHROUGH;
    return git_credential_userpass_plaintext_new(out, "x-access-token", context->token->c_str());
}

// libgit2 has no fetch timeout of its own; cancelling from the progress
// callback stops a transfer that is still moving but too slow.
int progress(const git_indexer_progress* /*stats*/, void* payload) {
    auto* context = static_cast<FetchContext*>(payload);
    if (std::chrono::steady_clock::now() > context->deadline) {
        context->timedOut = true;
        return -1;
    }
    return 0;
}

std::string shortSha(const std::string& sha) { return sha.substr(0, 12); }

}  // namespace

RepositoryMirror::RepositoryMirror(std::string path, std::string url, std::string token)
    : path_(std::move(path)), url_(std::move(url)), token_(std::move(token)) {
    git_repository* repo = nullptr;
    if (git_repository_open_bare(&repo, path_.c_str()) < 0) {
        Poco::File(path_).createDirectories();
        checkGit(git_repository_init(&repo, path_.c_str(), /*is_bare=*/1), "creating mirror " + path_);
    }
    repo_.reset(repo);
}

bool RepositoryMirror::hasCommit(const std::string& sha) {
    git_oid oid;
    return git_oid_fromstr(&oid, sha.c_str()) == 0 && hasCommit(oid);
}

bool RepositoryMirror::hasCommit(const git_oid& oid) {
    git_commit* commit = nullptr;
    if (git_commit_lookup(&commit, repo_.get(), &oid) < 0) return false;
    git_commit_free(commit);
    return true;
}

void RepositoryMirror::fetchRefspecs(const std::vector<std::string>& refspecs,
                                     std::chrono::steady_clock::time_point deadline, std::chrono::seconds timeout) {
    if (!remote_) {
        git_remote* remote = nullptr;
        checkGit(git_remote_create_anonymous(&remote, repo_.get(), url_.c_str()), "opening remote " + url_);
        remote_.reset(remote);
    }

    FetchContext context{&token_, deadline};
    const FetchDeadline sockets(deadline);
    git_fetch_options options;
    git_fetch_options_init(&options, GIT_FETCH_OPTIONS_VERSION);
    options.callbacks.credentials = credentials;
    options.callbacks.transfer_progress = progress;
    options.callbacks.payload = &context;
    options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    // The token goes to the configured URL's host alone, never where a
    // redirect points (libgit2 follows the first one by default).
    options.follow_redirects = GIT_REMOTE_REDIRECT_NONE;

    std::vector<char*> specs;
    for (const std::string& spec : refspecs) specs.push_back(const_cast<char*>(spec.c_str()));
    git_strarray array{specs.data(), specs.size()};
    const int code = git_remote_fetch(remote_.get(), &array, &options, nullptr);
    // Too slow or stalled, the server may do better on another try.
    if (context.timedOut || (code < 0 && std::chrono::steady_clock::now() >= deadline)) {
        throw GitError("fetch from " + url_ + " timed out after " + std::to_string(timeout.count()) +
                           " s (builder.fetch_timeout)",
                       /*transient=*/true);
    }
    checkGit(code, "fetch from " + url_);
}

void RepositoryMirror::fetch(const std::string& sha, std::chrono::seconds timeout) {
    git_oid oid;
    checkGit(git_oid_fromstr(&oid, sha.c_str()), "commit " + sha);
    if (hasCommit(oid)) return;
    // A repository on this machine: copy what the commit adds, unless the
    // mirror is new (then a fetch's pack beats copying the history object by object).
    if (url_.rfind("file://", 0) == 0 && hasReferences() &&
        copyFromLocalRepository(repo_.get(), Poco::URI(url_).getPath(), oid, kMaxCopiedObjects) && hasCommit(oid)) {
        remember(oid);
        return;
    }
    // One deadline for every request the fetch makes.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    try {
        fetchRefspecs({sha}, deadline, timeout);
    } catch (const GitError&) {
        // Servers that refuse unadvertised objects still serve them through refs.
        if (std::chrono::steady_clock::now() >= deadline) throw;
    }
    if (hasCommit(oid)) {
        remember(oid);
        return;
    }
    fetchRefspecs({"+refs/heads/*:refs/heads/*", "+refs/pull/*/merge:refs/pull/*/merge"}, deadline, timeout);
    if (!hasCommit(oid)) {
        throw GitError("commit " + sha + " is not in " + url_ + " (fetched every branch and pull request)");
    }
    remember(oid);
}

namespace {

// The loose objects' files under `objects`: objects/ab/cdef... is object abcdef....
std::vector<std::pair<std::string, std::filesystem::path>> looseObjectFiles(const std::string& objects) {
    std::vector<std::pair<std::string, std::filesystem::path>> found;
    std::error_code error;
    for (const auto& dir : std::filesystem::directory_iterator(objects, error)) {
        const std::string prefix = dir.path().filename().string();
        if (prefix.size() != 2 || !std::isxdigit(static_cast<unsigned char>(prefix[0])) ||
            !std::isxdigit(static_cast<unsigned char>(prefix[1])) || !dir.is_directory()) {
            continue;
        }
        for (const auto& file : std::filesystem::directory_iterator(dir.path(), error)) {
            const std::string rest = file.path().filename().string();
            if (rest.size() == GIT_OID_HEXSZ - 2 && rest.find_first_not_of("0123456789abcdef") == std::string::npos) {
                found.emplace_back(prefix + rest, file.path());
            }
        }
    }
    return found;
}

}  // namespace

std::size_t RepositoryMirror::looseObjects() const { return looseObjectFiles(path_ + "/objects").size(); }

std::size_t RepositoryMirror::packLooseObjects() {
    const auto loose = looseObjectFiles(path_ + "/objects");
    if (loose.empty()) return 0;
    git_packbuilder* raw = nullptr;
    checkGit(git_packbuilder_new(&raw, repo_.get()), "packing " + path_);
    const GitPackBuilder packer(raw);
    for (const auto& [hex, file] : loose) {
        git_oid oid;
        checkGit(git_oid_fromstr(&oid, hex.c_str()), "object " + hex);
        checkGit(git_packbuilder_insert(packer.get(), &oid, nullptr), "packing object " + hex + " of " + path_);
    }
    // Into objects/pack, with its index: readable before a loose file goes.
    checkGit(git_packbuilder_write(packer.get(), nullptr, 0, nullptr, nullptr), "writing a pack in " + path_);
    git_odb* odb = nullptr;
    checkGit(git_repository_odb(&odb, repo_.get()), "the objects of " + path_);
    const GitOdb ownedOdb(odb);
    checkGit(git_odb_refresh(ownedOdb.get()), "reading the new pack of " + path_);
    for (const auto& [hex, file] : loose) {
        std::error_code ignored;
        std::filesystem::remove(file, ignored);
    }
    return loose.size();
}

bool RepositoryMirror::hasReferences() {
    git_reference_iterator* iterator = nullptr;
    checkGit(git_reference_iterator_new(&iterator, repo_.get()), "references of " + path_);
    git_reference* reference = nullptr;
    const bool any = git_reference_next(&reference, iterator) == 0;
    if (any) git_reference_free(reference);
    git_reference_iterator_free(iterator);
    return any;
}

void RepositoryMirror::remember(const git_oid& oid) {
    git_reference* reference = nullptr;
    checkGit(git_reference_create(&reference, repo_.get(), "refs/slipway/fetched", &oid, /*force=*/1, nullptr),
             "updating refs/slipway/fetched in " + path_);
    git_reference_free(reference);
}

namespace {

// The root tree of commit `sha` in `repo`.
GitTree commitTree(git_repository* repo, const std::string& sha) {
    git_oid oid;
    checkGit(git_oid_fromstr(&oid, sha.c_str()), "commit " + sha);
    git_commit* commit = nullptr;
    checkGit(git_commit_lookup(&commit, repo, &oid), "commit " + shortSha(sha));
    GitCommit ownedCommit(commit);
    git_tree* tree = nullptr;
    checkGit(git_commit_tree(&tree, ownedCommit.get()), "tree of " + shortSha(sha));
    return GitTree(tree);
}

}  // namespace

std::string folderTreeId(const std::string& path, const std::string& sha, const std::string& folder) {
    git_repository* raw = nullptr;
    checkGit(git_repository_open_bare(&raw, path.c_str()), "mirror " + path);
    GitRepository repo(raw);
    const GitTree tree = commitTree(repo.get(), sha);
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, tree.get(), folder.c_str()) < 0) {
        throw GitError(folder + "/ is missing from commit " + shortSha(sha));
    }
    GitTreeEntry ownedEntry(entry);
    if (git_tree_entry_type(ownedEntry.get()) != GIT_OBJECT_TREE) {
        throw GitError(folder + " in commit " + shortSha(sha) + " is not a folder");
    }
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, git_tree_entry_id(ownedEntry.get()));
    return hex;
}

GitTree RepositoryMirror::treeOf(const std::string& sha) { return commitTree(repo_.get(), sha); }

namespace {

std::string hexOf(const git_oid* id) {
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, id);
    return hex;
}

// Deeper than any real repository nests its folders; a hostile tree could
// otherwise exhaust the stack.
constexpr int kMaxTreeDepth = 4096;

// Whether `name`, one tree entry's name, is one a checkout may write: libgit2
// checks the names it writes itself, but a gitlink's folder is slipway's to
// make, and libgit2 does not check names as it reads a tree.
bool safeEntryName(const std::string& name) {
    if (name.empty() || name == "." || name == ".." || Poco::icompare(name, ".git") == 0) return false;
    return name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

// `tree` (at `prefix`) without its gitlinks, and without the folders that
// held nothing else; the gitlinks are added to `gitlinks`. Returns `tree`'s
// own id when it has none, nullopt when nothing is left of it. Throws
// GitError for a tree no checkout could write: a gitlink's name that is not
// a plain name, or two entries of one name.
std::optional<git_oid> withoutGitlinks(git_repository* repo, const git_tree* tree, const std::string& prefix,
                                       std::vector<Gitlink>& gitlinks, int depth) {
    if (depth > kMaxTreeDepth) throw GitError(prefix + " is nested more than " + std::to_string(kMaxTreeDepth) + " deep");
    // What changes: an entry left out (nullopt) or a folder written anew.
    std::vector<std::pair<std::string, std::optional<git_oid>>> changes;
    std::set<std::string> names;
    const std::size_t count = git_tree_entrycount(tree);
    for (std::size_t i = 0; i < count; ++i) {
        const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
        const std::string name = git_tree_entry_name(entry);
        const git_filemode_t mode = git_tree_entry_filemode(entry);
        if (mode != GIT_FILEMODE_COMMIT && mode != GIT_FILEMODE_TREE) continue;
        const std::string where = prefix.empty() ? "/" : prefix;
        if (!names.insert(name).second) throw GitError("the tree of " + where + " names " + name + " twice");
        if (!safeEntryName(name)) {
            throw GitError(std::string(mode == GIT_FILEMODE_COMMIT ? "a submodule" : "a folder") + " in " + where +
                           " is named '" + name + "', which no checkout writes");
        }
        if (mode == GIT_FILEMODE_COMMIT) {
            gitlinks.push_back({prefix + name, hexOf(git_tree_entry_id(entry))});
            changes.emplace_back(name, std::nullopt);
            continue;
        }
        git_tree* sub = nullptr;
        checkGit(git_tree_lookup(&sub, repo, git_tree_entry_id(entry)), "reading " + prefix + name);
        const GitTree ownedSub(sub);
        const std::optional<git_oid> replacement = withoutGitlinks(repo, ownedSub.get(), prefix + name + "/", gitlinks, depth + 1);
        if (!replacement || !git_oid_equal(&*replacement, git_tree_entry_id(entry))) changes.emplace_back(name, replacement);
    }
    // Most trees have no submodule: they are read, never written.
    if (changes.empty()) return *git_tree_id(tree);
    git_treebuilder* raw = nullptr;
    checkGit(git_treebuilder_new(&raw, repo, tree), "reading the tree of " + (prefix.empty() ? "/" : prefix));
    const GitTreeBuilder builder(raw);
    for (const auto& [name, replacement] : changes) {
        if (replacement) {
            checkGit(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &*replacement, GIT_FILEMODE_TREE),
                     "rewriting " + prefix + name);
        } else {
            checkGit(git_treebuilder_remove(builder.get(), name.c_str()), "leaving out " + prefix + name);
        }
    }
    if (git_treebuilder_entrycount(builder.get()) == 0) return std::nullopt;
    git_oid written;
    checkGit(git_treebuilder_write(&written, builder.get()), "writing the tree of " + (prefix.empty() ? "/" : prefix));
    return written;
}

// Makes `relative` an empty folder inside `root`. Whatever stands in the way
// is not the tree's, and goes; a symbolic link on the way is removed, never
// followed, so nothing outside `root` is touched.
void makeEmptyFolder(const std::string& root, const std::string& relative) {
    namespace fs = std::filesystem;
    fs::path path = root;
    for (const fs::path& part : fs::path(relative)) {
        path /= part;
        const fs::file_status status = fs::symlink_status(path);
        if (fs::is_symlink(status) || (fs::exists(status) && !fs::is_directory(status))) fs::remove(path);
        if (!fs::is_directory(fs::symlink_status(path))) fs::create_directory(path);
    }
    for (const fs::directory_entry& inside : fs::directory_iterator(path)) fs::remove_all(inside.path());
}

// Removes folder `relative` inside `root` and what it holds, unless a
// symbolic link stands on the way to it (then it is not the submodule's).
void removeFolder(const std::string& root, const std::string& relative) {
    namespace fs = std::filesystem;
    fs::path path = root;
    for (const fs::path& part : fs::path(relative)) {
        path /= part;
        const fs::file_status status = fs::symlink_status(path);
        if (!fs::is_directory(status) || fs::is_symlink(status)) return;
    }
    fs::remove_all(path);
}

}  // namespace

GitTree RepositoryMirror::treeWithoutGitlinks(const std::string& sha, std::vector<Gitlink>& gitlinks) {
    GitTree tree = treeOf(sha);
    std::optional<git_oid> kept = withoutGitlinks(repo_.get(), tree.get(), "", gitlinks, 0);
    if (kept && git_oid_equal(&*kept, git_tree_id(tree.get()))) return tree;
    if (!kept) {
        // Nothing but submodules: the empty tree.
        git_treebuilder* raw = nullptr;
        checkGit(git_treebuilder_new(&raw, repo_.get(), nullptr), "an empty tree");
        const GitTreeBuilder empty(raw);
        kept.emplace();
        checkGit(git_treebuilder_write(&*kept, empty.get()), "writing an empty tree");
    }
    git_tree* written = nullptr;
    checkGit(git_tree_lookup(&written, repo_.get(), &*kept), "the tree of " + shortSha(sha) + " without submodules");
    return GitTree(written);
}

std::vector<Gitlink> RepositoryMirror::gitlinks(const std::string& sha) {
    std::vector<Gitlink> found;
    treeWithoutGitlinks(sha, found);
    return found;
}

std::string RepositoryMirror::readFile(const std::string& sha, const std::string& path, std::size_t maxBytes) {
    GitTree tree = treeOf(sha);
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, tree.get(), path.c_str()) < 0) {
        throw GitError(path + " is missing from commit " + shortSha(sha));
    }
    GitTreeEntry ownedEntry(entry);
    const git_filemode_t mode = git_tree_entry_filemode(ownedEntry.get());
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
        throw GitError(path + " in commit " + shortSha(sha) + " is not a regular file");
    }
    // The size from the object's header, before anything is inflated: a
    // small blob that inflates to gigabytes must not be read to learn it.
    git_odb* odb = nullptr;
    checkGit(git_repository_odb(&odb, repo_.get()), "the objects of " + path_);
    const GitOdb ownedOdb(odb);
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    checkGit(git_odb_read_header(&size, &type, ownedOdb.get(), git_tree_entry_id(ownedEntry.get())), path);
    if (size > maxBytes) {
        throw GitError(path + " in commit " + shortSha(sha) + " is " + std::to_string(size) +
                       " bytes, over the limit of " + std::to_string(maxBytes));
    }
    git_blob* blob = nullptr;
    checkGit(git_blob_lookup(&blob, repo_.get(), git_tree_entry_id(ownedEntry.get())), path);
    GitBlob ownedBlob(blob);
    return std::string(static_cast<const char*>(git_blob_rawcontent(ownedBlob.get())), size);
}

std::vector<Gitlink> RepositoryMirror::checkout(const std::string& sha, const std::string& dir,
                                               const std::string& indexPath, const std::string& baseline) {
    std::vector<Gitlink> gitlinks;
    GitTree tree = treeWithoutGitlinks(sha, gitlinks);
    git_checkout_options options;
    git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
    // Whatever the folder holds that the tree does not, a file changed or left
    // there, goes: the folder ends up as the tree, nothing more.
    options.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED | GIT_CHECKOUT_REMOVE_IGNORED;
    options.target_directory = dir.c_str();
    GitTree baselineTree;
    GitIndex emptyIndex;
    std::vector<Gitlink> before;
    if (!baseline.empty()) {
        baselineTree = treeWithoutGitlinks(baseline, before);
        options.baseline = baselineTree.get();
    } else {
        // Else libgit2 would take the mirror's HEAD for what the folder holds.
        git_index* index = nullptr;
        checkGit(git_index_new(&index), "an empty index");
        emptyIndex.reset(index);
        options.baseline_index = emptyIndex.get();
    }
    // A bare mirror has no index; libgit2 checks out through the
    // repository's, so the folder's own stands in for it while the checkout lasts.
    git_index* index = nullptr;
    checkGit(git_index_open(&index, indexPath.c_str()), "opening the index " + indexPath);
    GitIndex ownedIndex(index);
    checkGit(git_repository_set_index(repo_.get(), ownedIndex.get()), "using the index " + indexPath);
    const int code =
        git_checkout_tree(repo_.get(), reinterpret_cast<const git_object*>(tree.get()), &options);
    git_repository_set_index(repo_.get(), nullptr);
    checkGit(code, "checkout of " + shortSha(sha) + " into " + dir);
    for (const Gitlink& link : gitlinks) makeEmptyFolder(dir, link.path);
    // A submodule the new commit no longer has: its folder is not in either
    // tree libgit2 was given, so libgit2 leaves it. Unless the commit has
    // something else there now (which libgit2 wrote), it goes.
    const GitTree full = treeOf(sha);
    for (const Gitlink& old : before) {
        const bool kept = std::any_of(gitlinks.begin(), gitlinks.end(), [&](const Gitlink& l) { return l.path == old.path; });
        git_tree_entry* entry = nullptr;
        if (!kept && git_tree_entry_bypath(&entry, full.get(), old.path.c_str()) < 0) {
            removeFolder(dir, old.path);
        }
        git_tree_entry_free(entry);
    }
    return gitlinks;
}

}  // namespace slipway
