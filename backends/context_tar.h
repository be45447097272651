#pragma once

#include <ostream>
#include <string>

namespace slipway {

// Writes the build context folder `dir` to `out` as a tar archive (pax, made
// by libarchive) the way the docker CLI sends one: every file, folder and
// symbolic link below `dir` that its .dockerignore does not exclude, named
// relative to `dir`, owned by root. Symbolic links are archived as links and
// never followed, so nothing outside `dir` can reach the engine. `dockerfile`
// (relative to `dir`) and .dockerignore are always included. Throws
// std::runtime_error naming the path and the reason when something cannot be
// read, is neither a file, a folder nor a link, or cannot be written to `out`.
void writeContextTar(const std::string& dir, const std::string& dockerfile, std::ostream& out);

}  // namespace slipway
