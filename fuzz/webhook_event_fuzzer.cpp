// libFuzzer target: parseWebhook must answer any body with an event or a
// WebhookError, never crash, hang or throw anything else (std::bad_alloc
// only when memory runs out, which no input here may cause).
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/github/webhook_event.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static const char* const events[] = {"pull_request", "push", "ping", "issues"};
    static const char* const types[] = {"application/json", "application/x-www-form-urlencoded",
                                        "application/json; charset=utf-8", "text/plain"};
    const std::string event = events[data[0] & 3];
    const std::string type = types[(data[0] >> 2) & 3];
    const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const slipway::WebhookEvent parsed = slipway::parseWebhook(event, type, body);
        // What it accepts to build is always a plain commit id.
        if (!parsed.sha.empty() && !slipway::isCommitSha(parsed.sha)) __builtin_trap();
    } catch (const slipway::WebhookError&) {
    }
    return 0;
}
