// One warm checkout the way a slipwayd job does it, for bench/checkout.sh:
// Checkout::prepare fetches the commit into the libgit2 mirror under
// REPOS_DIR (made by the first run) and writes its tree into OUT_DIR.
//
// usage: slipway_checkout_bench REPOS_DIR URL SHA_FILE OUT_DIR

#include <chrono>
#include <fstream>
#include <iostream>

#include <Poco/File.h>

#include "daemon/checkout.h"
#include "daemon/git_handles.h"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: slipway_checkout_bench REPOS_DIR URL SHA_FILE OUT_DIR\n";
        return 2;
    }
    std::string sha;
    std::ifstream(argv[3]) >> sha;
    slipway::RepoSettings repo;
    repo.alias = "bench";
    repo.url = argv[2];
    const std::string out = argv[4];
    try {
        slipway::GitLibrary git;
        slipway::Checkout checkout(argv[1], std::chrono::seconds(600));
        Poco::File(out).createDirectories();
        checkout.prepare(repo, sha, "images.json", 1 << 20, out);
    } catch (const std::exception& e) {
        std::cerr << "slipway_checkout_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
