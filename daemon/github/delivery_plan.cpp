#include "daemon/github/delivery_plan.h"

#include <algorithm>

#include <Poco/String.h>

namespace slipway {
namespace {

bool watches(const RepoSettings& repo, const std::string& branch) {
    return std::find(repo.branches.begin(), repo.branches.end(), branch) != repo.branches.end();
}

DeliveryPlan ignored(DeliveryPlan plan, const std::string& detail) {
    plan.outcome = DeliveryOutcome::Ignored;
    plan.detail = detail;
    return plan;
}

}  // namespace

DeliveryPlan planDelivery(const WebhookEvent& event, const std::vector<RepoSettings>& repos) {
    DeliveryPlan plan;
    const RepoSettings* repo = repoByName(repos, event.repo);
    if (event.event == "ping") {
        if (repo) plan.repoAlias = repo->alias;
        plan.outcome = DeliveryOutcome::Ping;
        return plan;
    }
    if (event.repo.empty()) return ignored(plan, "event " + event.event + " names no repository");
    if (!repo) {
        plan.unknownRepo = true;
        plan.outcome = DeliveryOutcome::Unconfigured;
        plan.detail = "repository " + event.repo + " is not configured";
        return plan;
    }
    plan.repoAlias = repo->alias;

    if (event.event == "pull_request") {
        if (!repo->onPullRequest) return ignored(plan, "pull_request events are not configured for " + repo->alias);
        if (event.action != "closed") return ignored(plan, "pull request " + event.action + ", not merged");
        if (!event.merged) return ignored(plan, "pull request closed without merging");
        if (!watches(*repo, event.branch)) return ignored(plan, "base branch " + event.branch + " is not watched");
    } else if (event.event == "push") {
        if (!repo->onPush) return ignored(plan, "push events are not configured for " + repo->alias);
        if (event.deleted) return ignored(plan, "push deleted the branch");
        if (event.branch.empty() || !watches(*repo, event.branch)) {
            return ignored(plan, "push to a ref that is not a watched branch");
        }
    } else {
        return ignored(plan, "event " + event.event + " starts no build");
    }
    plan.outcome = DeliveryOutcome::Queued;
    plan.jobs.push_back({repo->alias, Poco::toLower(event.sha), "", 1});
    return plan;
}

}  // namespace slipway
