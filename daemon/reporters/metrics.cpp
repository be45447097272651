#include "daemon/reporters/metrics.h"

#include <set>
#include <sstream>

namespace slipway {
namespace {

// Label values come from fixed sets, but escaping keeps the format valid whatever they hold.
std::string label(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double value) {
    std::ostringstream out;
    out.precision(17);
    out << value;
    return out.str();
}

}  // namespace

void Metrics::Histogram::observe(double value) {
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        if (value <= kBounds[i]) ++buckets[i];
    }
    ++count;
    sum += value;
}

void Metrics::Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        out += name + "_bucket{le=\"" + number(kBounds[i]) + "\"} " + std::to_string(buckets[i]) + "\n";
    }
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
    out += name + "_sum " + number(sum) + "\n";
    out += name + "_count " + std::to_string(count) + "\n";
}

void Metrics::webhookReceived(const std::string& event, DeliveryOutcome outcome) {
    static const std::set<std::string> known = {"ping", "pull_request", "push"};
    std::lock_guard<std::mutex> lock(mutex_);
    ++webhooks_[{known.count(event) ? event : "other", toString(outcome)}];
}

void Metrics::buildFinished(const Build& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++builds_[build.state];
}

void Metrics::statusAttempted(StatusAttempt attempt) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++statuses_[attempt];
}

void Metrics::setDiskUsage(const std::map<std::string, std::uint64_t>& bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    disk_ = bytes;
}

void Metrics::stepTimed(const Build&, BuildStep step, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    (step == BuildStep::Build ? buildSeconds_ : pushSeconds_).observe(seconds);
}

std::string Metrics::render(std::int64_t queuedJobs, std::int64_t runningBuilds) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    out += "# HELP slipway_webhooks_total Webhook deliveries that passed the signature check, by event and outcome.\n";
    out += "# TYPE slipway_webhooks_total counter\n";
    for (const auto& [key, value] : webhooks_) {
        out += "slipway_webhooks_total{event=\"" + label(key.first) + "\",outcome=\"" + label(key.second) + "\"} " +
               std::to_string(value) + "\n";
    }
    out += "# HELP slipway_builds_total Builds that ended since slipwayd started, by state.\n";
    out += "# TYPE slipway_builds_total counter\n";
    for (RunState state : {RunState::Succeeded, RunState::Failed}) {
        auto it = builds_.find(state);
        out += std::string("slipway_builds_total{state=\"") + toString(state) + "\"} " +
               std::to_string(it == builds_.end() ? 0 : it->second) + "\n";
    }
    out += "# HELP slipway_commit_status_requests_total Requests for commit statuses to GitHub, by what came of "
           "them.\n";
    out += "# TYPE slipway_commit_status_requests_total counter\n";
    for (const auto& [attempt, name] : {std::pair{StatusAttempt::Sent, "sent"}, std::pair{StatusAttempt::Retried, "retried"},
                                        std::pair{StatusAttempt::Abandoned, "abandoned"}}) {
        auto it = statuses_.find(attempt);
        out += std::string("slipway_commit_status_requests_total{outcome=\"") + name + "\"} " +
               std::to_string(it == statuses_.end() ? 0 : it->second) + "\n";
    }
    buildSeconds_.render(out, "slipway_build_duration_seconds", "Time the image build step took.");
    pushSeconds_.render(out, "slipway_push_duration_seconds", "Time the push step took.");
    out += "# HELP slipway_queue_depth Jobs waiting for a worker (of any node: they share the queue).\n# TYPE slipway_queue_depth gauge\n";
    out += "slipway_queue_depth " + std::to_string(queuedJobs) + "\n";
    if (!disk_.empty()) {
        out += "# HELP slipway_state_bytes The state folder's size by part, measured at the last housekeeping pass.\n"
               "# TYPE slipway_state_bytes gauge\n";
        for (const auto& [part, bytes] : disk_) {
            out += "slipway_state_bytes{part=\"" + label(part) + "\"} " + std::to_string(bytes) + "\n";
        }
    }
    out += "# HELP slipway_builds_running Builds this node runs now.\n# TYPE slipway_builds_running gauge\n";
    out += "slipway_builds_running " + std::to_string(runningBuilds) + "\n";
    return out;
}

}  // namespace slipway
