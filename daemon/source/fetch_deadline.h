#pragma once

#include <chrono>

namespace slipway {

// libgit2 1.5 reads and writes its sockets with no timeout, and a fetch's
// deadline could only be checked when data arrived: a Git server that accepts
// a connection and says nothing, or stops in the middle of a pack, held the
// fetch, its repository's lock and a worker for ever. The socket stream
// registered here gives up at the deadline of the fetch running on the
// calling thread (libgit2 does a fetch's I/O on the thread that asked for
// it). libgit2's TLS (mbedTLS in Debian's build) runs over this stream too.
// Call once, after git_libgit2_init (GitLibrary does).
void registerDeadlineSockets();

// While it lives, the sockets libgit2 opens or uses on this thread give up
// once `deadline` has passed; without one they wait as long as the peer does.
class FetchDeadline {
public:
    explicit FetchDeadline(std::chrono::steady_clock::time_point deadline);
    ~FetchDeadline();
    FetchDeadline(const FetchDeadline&) = delete;
    FetchDeadline& operator=(const FetchDeadline&) = delete;

private:
    const std::chrono::steady_clock::time_point* previous_;
    std::chrono::steady_clock::time_point deadline_;
};

}  // namespace slipway
