#pragma once

namespace slipway {

// What became of one commit status the sender dealt with.
enum class StatusAttempt {
    Sent,       // GitHub accepted it
    Retried,    // it is tried again later (GitHub unreachable, a 5xx, a rate limit)
    Abandoned,  // GitHub refused it for good
};

// Told of every request the commit status sender makes (the metrics count them).
class StatusAttempts {
public:
    virtual ~StatusAttempts() = default;
    virtual void statusAttempted(StatusAttempt attempt) = 0;
};

}  // namespace slipway
