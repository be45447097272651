#include "daemon/pipeline/content_key.h"

#include <algorithm>

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

namespace slipway {
namespace {

std::string escaped(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string contentKey(const ContentInputs& inputs) {
    std::string text = "slipway-content-v1\n";
    text += "tree " + inputs.tree + "\n";
    text += "dockerfile " + escaped(inputs.dockerfile) + "\n";
    for (const auto& [name, value] : inputs.buildArgs) text += "build-arg " + name + "=" + escaped(value) + "\n";
    std::vector<std::string> platforms;
    for (const Platform& platform : inputs.platforms) platforms.push_back(platform.text());
    std::sort(platforms.begin(), platforms.end());
    for (const std::string& platform : platforms) text += "platform " + platform + "\n";
    Poco::SHA2Engine sha256(Poco::SHA2Engine::SHA_256);
    sha256.update(text);
    return "sha256:" + Poco::DigestEngine::digestToHex(sha256.digest());
}

}  // namespace slipway
