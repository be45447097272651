#pragma once

#include <string>

#include <Poco/Timestamp.h>

namespace slipway {

// Where time comes from, so that tests can fix it.
class Clock {
public:
    virtual ~Clock() = default;
    virtual Poco::Timestamp now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
public:
    Poco::Timestamp now() const override;
};

// Formats a timestamp as RFC 3339 UTC with milliseconds: 2026-11-27T09:42:00.123Z.
std::string formatRfc3339(const Poco::Timestamp& ts);

}  // namespace slipway
