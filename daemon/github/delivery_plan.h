#pragma once

#include <string>
#include <vector>

#include "daemon/config/settings.h"
#include "daemon/github/webhook_event.h"
#include "storage/records.h"

namespace slipway {

// What one verified, parsed webhook asks slipway to do.
struct DeliveryPlan {
    bool unknownRepo = false;  // the event names a repository that is not configured (404)
    std::string repoAlias;
    DeliveryOutcome outcome = DeliveryOutcome::Ignored;  // Queued, Ping, Ignored or Unconfigured
    std::string detail;        // why nothing is built, for people
    std::vector<JobRequest> jobs;
};

// Decides from the event and the configured repositories which commits to
// build. Pure: no I/O, so every rule is unit-tested.
DeliveryPlan planDelivery(const WebhookEvent& event, const std::vector<RepoSettings>& repos);

}  // namespace slipway
