#include "daemon/pipeline/leftover_images.h"

#include <Poco/NumberParser.h>

#include "daemon/pipeline/release.h"

namespace slipway {

std::vector<std::string> removeLeftoverTags(Backend& backend, Store& store, const std::string& instance,
                                            bool keepImages, std::ostream& log) {
    std::vector<std::string> removed;
    for (const LocalImage& image : backend.taggedImages(kLabelInstance, instance)) {
        const auto label = image.labels.find(kLabelBuild);
        Poco::Int64 id = 0;
        if (label == image.labels.end() || !Poco::NumberParser::tryParse64(label->second, id)) continue;
        const std::optional<Build> build = store.build(id);
        if (build && !isFinished(build->state)) continue;  // its own job removes it
        // Kept on purpose: a succeeded build's, or one whose row retention removed.
        if (keepImages && (!build || (build->state == RunState::Succeeded && build->image == image.reference))) continue;
        try {
            backend.remove(image.reference, log);
            removed.push_back(image.reference);
        } catch (const BackendError& e) {
            // In use by a container, say: the next start tries again.
            log << e.what() << "\n";
        }
    }
    return removed;
}

}  // namespace slipway
