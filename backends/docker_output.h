#pragma once

#include <string>
#include <vector>

namespace slipway {

// What Docker prints while it builds and pushes, read the same way whether it
// came from the docker CLI or from the Engine API's progress stream.

// The ids of the images a build created step by step ("---> <id>" lines not
// preceded by "---> Using cache"), in the order it made them.
std::vector<std::string> parseCreatedImages(const std::string& output);

// The last step a build started, as "N/M (INSTRUCTION arguments)" from its
// "Step N/M : INSTRUCTION arguments" line; empty when there is none.
std::string lastBuildStep(const std::string& output);

// Finds the manifest digest in push output ("...: digest: sha256:<hex> size: N");
// empty when there is none.
std::string parsePushDigest(const std::string& output);

}  // namespace slipway
