// One warm checkout the way a slipwayd job does it, for bench/checkout.sh:
// Checkout::prepare fetches the commit into the libgit2 mirror under
// STATE_DIR/repos and brings the work tree under STATE_DIR/work (both made by
// the first run, and kept, as slipwayd keeps them from job to job) to its tree.
//
// usage: slipway_checkout_bench STATE_DIR URL SHA_FILE

#include <chrono>
#include <fstream>
#include <iostream>

#include "daemon/source/checkout.h"
#include "daemon/source/git_handles.h"

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: slipway_checkout_bench STATE_DIR URL SHA_FILE\n";
        return 2;
    }
    std::string sha;
    std::ifstream(argv[3]) >> sha;
    slipway::RepoSettings repo;
    repo.alias = "bench";
    repo.url = argv[2];
    const std::string state = argv[1];
    try {
        slipway::GitLibrary git;
        slipway::Checkout checkout(state + "/repos", state + "/work", std::chrono::seconds(600));
        std::string manifest;
        checkout.prepare(repo, sha, "images.json", 1 << 20, manifest);
    } catch (const std::exception& e) {
        std::cerr << "slipway_checkout_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
