#include "daemon/registry/registry_probe.h"

#include <stdexcept>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>

#include "daemon/registry/registry_client.h"

namespace slipway {

void probeRegistry(const std::string& host) {
    try {
        Poco::Net::Context::Ptr context = registryTlsContext(host);
        const auto colon = host.rfind(':');
        const std::string name = colon == std::string::npos ? host : host.substr(0, colon);
        const Poco::UInt16 port =
            colon == std::string::npos ? 443 : static_cast<Poco::UInt16>(std::stoi(host.substr(colon + 1)));
        Poco::Net::HTTPSClientSession session(name, port, context);
        session.setTimeout(Poco::Timespan(3, 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/v2/", Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        session.receiveResponse(response).ignore(1 << 20);
        // 401 is a registry that answers and wants credentials: reachable.
        if (response.getStatus() != 200 && response.getStatus() != 401) {
            throw std::runtime_error("GET https://" + host + "/v2/ answered " + std::to_string(response.getStatus()));
        }
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("registry " + host + ": " + e.displayText());
    }
}

}  // namespace slipway
