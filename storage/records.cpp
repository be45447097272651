#include "storage/records.h"

#include <array>
#include <utility>

namespace slipway {
namespace {

constexpr std::array<std::pair<RunState, const char*>, 4> kRunStates = {{
    {RunState::Queued, "queued"},
    {RunState::Running, "running"},
    {RunState::Succeeded, "succeeded"},
    {RunState::Failed, "failed"},
}};

constexpr std::array<std::pair<DeliveryOutcome, const char*>, 6> kOutcomes = {{
    {DeliveryOutcome::Queued, "queued"},
    {DeliveryOutcome::Pending, "pending"},
    {DeliveryOutcome::Ping, "ping"},
    {DeliveryOutcome::Ignored, "ignored"},
    {DeliveryOutcome::Unconfigured, "unconfigured"},
    {DeliveryOutcome::Duplicate, "duplicate"},
}};

constexpr std::array<std::pair<CommitState, const char*>, 4> kCommitStates = {{
    {CommitState::Pending, "pending"},
    {CommitState::Success, "success"},
    {CommitState::Failure, "failure"},
    {CommitState::Error, "error"},
}};

constexpr std::array<std::pair<StatusDelivery, const char*>, 4> kStatusDeliveries = {{
    {StatusDelivery::Due, "due"},
    {StatusDelivery::Sent, "sent"},
    {StatusDelivery::Superseded, "superseded"},
    {StatusDelivery::Abandoned, "abandoned"},
}};

template <typename Enum, std::size_t N>
const char* nameOf(const std::array<std::pair<Enum, const char*>, N>& names, Enum value) {
    for (const auto& [candidate, name] : names) {
        if (candidate == value) return name;
    }
    return "unknown";  // unreachable: every enumerator is in its table
}

template <typename Enum, std::size_t N>
std::optional<Enum> valueOf(const std::array<std::pair<Enum, const char*>, N>& names, const std::string& text) {
    for (const auto& [value, name] : names) {
        if (text == name) return value;
    }
    return std::nullopt;
}

}  // namespace

const char* toString(RunState state) { return nameOf(kRunStates, state); }
std::optional<RunState> parseRunState(const std::string& text) { return valueOf(kRunStates, text); }

const char* toString(DeliveryOutcome outcome) { return nameOf(kOutcomes, outcome); }
std::optional<DeliveryOutcome> parseDeliveryOutcome(const std::string& text) { return valueOf(kOutcomes, text); }

const char* toString(CommitState state) { return nameOf(kCommitStates, state); }
std::optional<CommitState> parseCommitState(const std::string& text) { return valueOf(kCommitStates, text); }

const char* toString(StatusDelivery delivery) { return nameOf(kStatusDeliveries, delivery); }
std::optional<StatusDelivery> parseStatusDelivery(const std::string& text) { return valueOf(kStatusDeliveries, text); }

std::string encodePlatforms(const std::vector<BuildPlatform>& platforms) {
    std::string text;
    for (const BuildPlatform& platform : platforms) {
        if (!text.empty()) text += "\n";
        text += platform.platform;
        if (!platform.digest.empty()) text += " " + platform.digest;
    }
    return text;
}

std::vector<BuildPlatform> decodePlatforms(const std::string& text) {
    std::vector<BuildPlatform> platforms;
    std::string::size_type start = 0;
    while (start < text.size()) {
        std::string::size_type end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        const std::string::size_type space = line.find(' ');
        if (!line.empty()) {
            platforms.push_back({line.substr(0, space), space == std::string::npos ? "" : line.substr(space + 1)});
        }
        start = end + 1;
    }
    return platforms;
}

}  // namespace slipway
