#pragma once

#include <Poco/JSON/Object.h>

#include "storage/records.h"

namespace slipway {

// The JSON forms the HTTP API answers with; empty fields are null.
Poco::JSON::Object::Ptr buildToJson(const Build& build);
Poco::JSON::Object::Ptr jobToJson(const Job& job);
// Where a build's newest commit status is on its way to GitHub.
Poco::JSON::Object::Ptr commitStatusToJson(const CommitStatus& status);
Poco::JSON::Object::Ptr deliveryToJson(const Delivery& delivery);

}  // namespace slipway
