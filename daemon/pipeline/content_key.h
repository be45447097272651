#pragma once

#include <map>
#include <string>
#include <vector>

#include "backends/platform.h"

namespace slipway {

// What an image is made from, as far as slipway controls it: the Git tree of
// the service folder (the build context, Dockerfile included), the
// Dockerfile's path inside it, and the build arguments. Two builds with the
// same inputs make the same image (up to what the Dockerfile itself fetches),
// so a tag already published from the same inputs need not be built again.
struct ContentInputs {
    std::string tree;        // the service folder's Git tree id, 40 hex digits
    std::string dockerfile;  // relative to the service folder
    std::map<std::string, std::string> buildArgs;
    // The platforms built for (images.json's "platforms", or else
    // builder.platforms, which so changes the key of every entry that names
    // none); empty for the engine's own, as before platforms existed.
    std::vector<Platform> platforms;
};

// The content key: "sha256:" and the SHA-256 of this text, one line each,
// in this order (version 1 of the key; a change of form starts a new version,
// which makes every published tag count as made from different content):
//   slipway-content-v1
//   tree <tree>
//   dockerfile <dockerfile>
//   build-arg <name>=<value>     (one line per argument, sorted by name)
//   platform <os/arch[/variant]> (one line per platform, sorted; none when
//                                 no platform is named, so that every key made
//                                 before platforms existed stays the same)
// A value's newlines are written as \n and backslashes as \\, so that no
// value can imitate another line.
std::string contentKey(const ContentInputs& inputs);

}  // namespace slipway
