#include "daemon/source/git_handles.h"

namespace slipway {

void checkGit(int code, const std::string& what) {
    if (code >= 0) return;
    const git_error* error = git_error_last();
    const bool transient = error && (error->klass == GIT_ERROR_NET || error->klass == GIT_ERROR_HTTP ||
                                     error->klass == GIT_ERROR_SSL || error->klass == GIT_ERROR_SSH);
    throw GitError(what + ": libgit2: " + (error && error->message ? error->message : "error " + std::to_string(code)),
                   transient);
}

}  // namespace slipway
