// libFuzzer target: parseManifest answers any text with entries or a
// ManifestError, and every entry it accepts is safe to use as a folder, an
// image repository and a tag.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "backends/image_name.h"
#include "daemon/pipeline/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        std::set<std::string> names;
        for (const slipway::ServiceEntry& entry : slipway::parseManifest(text)) {
            if (!entry.error.empty()) continue;
            if (!slipway::isValidRepositoryName(entry.name) || !slipway::isValidTag(entry.version)) __builtin_trap();
            if (entry.name.find("..") != std::string::npos || entry.name[0] == '-' || entry.name[0] == '/') {
                __builtin_trap();
            }
            if (!names.insert(entry.name).second) __builtin_trap();
        }
    } catch (const slipway::ManifestError&) {
    }
    return 0;
}
