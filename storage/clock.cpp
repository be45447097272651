#include "storage/clock.h"

#include <Poco/DateTimeFormatter.h>

namespace slipway {

Poco::Timestamp SystemClock::now() const { return Poco::Timestamp(); }

std::string formatRfc3339(const Poco::Timestamp& ts) {
    return Poco::DateTimeFormatter::format(ts, "%Y-%m-%dT%H:%M:%S.%iZ");
}

}  // namespace slipway
