#include "daemon/pipeline/release.h"

namespace slipway {
namespace {

std::string label(const PublishedImage& image, const char* name) {
    auto it = image.labels.find(name);
    return it == image.labels.end() ? std::string() : it->second;
}

// The start of a Git id, as people quote them.
std::string shortId(const std::string& id) { return id.substr(0, 12); }

}  // namespace

ReleaseDecision decideRelease(const ReleaseCandidate& candidate, const std::optional<PublishedImage>& published) {
    ReleaseDecision decision;
    if (!published) return decision;
    const std::string tag = candidate.service + ":" + candidate.version;
    const std::string bump = ": bump its version in images.json";
    const std::string key = label(*published, kLabelContentKey);
    if (key.empty()) {
        decision.action = ReleaseAction::Refuse;
        decision.reason = tag + " is already published, but not by slipway (" +
                          (published->index ? std::string("it is a multi-platform index")
                                            : std::string("its image has no ") + kLabelContentKey + " label") +
                          ", digest " + published->digest + ")" + bump +
                          ", or set builder.republish = overwrite to replace it";
        return decision;
    }
    if (key == candidate.contentKey) {
        decision.action = ReleaseAction::Reuse;
        decision.digest = published->digest;
        decision.reason = "not rebuilt: " + tag + " is already published from the same content (" +
                          candidate.contentKey + "), digest " + published->digest;
        return decision;
    }
    const std::string tree = label(*published, kLabelTree);
    const std::string commit = label(*published, kLabelRevision);
    const std::string build = label(*published, kLabelBuild);
    std::string from = "tree " + (tree.empty() ? std::string("?") : shortId(tree));
    std::string origin;
    if (!commit.empty()) origin += "commit " + shortId(commit);
    if (!build.empty()) origin += (origin.empty() ? "" : ", ") + std::string("build ") + build;
    if (!origin.empty()) from += " (" + origin + ")";
    decision.action = ReleaseAction::Refuse;
    decision.reason = tag + " is already published from " + from + "; this commit " +
                      (tree == candidate.tree ? "builds " + candidate.service + "/ differently (its dockerfile, "
                                                                                "build_args or platforms changed)"
                                              : "changes " + candidate.service + "/ (tree " +
                                                    shortId(candidate.tree) + ")") +
                      bump;
    return decision;
}

}  // namespace slipway
