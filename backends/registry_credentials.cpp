#include "backends/registry_credentials.h"

#include <sstream>

#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Object.h>

namespace slipway {

std::string registryAuthHeader(const RegistryCredentials& credentials) {
    Poco::JSON::Object auth;
    if (!credentials.username.empty()) {
        auth.set("username", credentials.username);
        auth.set("password", credentials.password);
        auth.set("serveraddress", credentials.serverAddress);
    }
    std::ostringstream json;
    auth.stringify(json);

    std::ostringstream encoded;
    // The engine decodes with Go's base64.URLEncoding, which wants the padding:
    // without it the header is silently taken as no credentials at all.
    Poco::Base64Encoder encoder(encoded, Poco::BASE64_URL_ENCODING);
    encoder.rdbuf()->setLineLength(0);
    encoder << json.str();
    encoder.close();
    return encoded.str();
}

}  // namespace slipway
