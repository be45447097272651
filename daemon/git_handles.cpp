#include "daemon/git_handles.h"

namespace slipway {

void checkGit(int code, const std::string& what) {
    if (code >= 0) return;
    const git_error* error = git_error_last();
    throw GitError(what + ": libgit2: " + (error && error->message ? error->message : "error " + std::to_string(code)));
}

}  // namespace slipway
