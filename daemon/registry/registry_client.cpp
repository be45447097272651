#include "daemon/registry/registry_client.h"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>

namespace slipway {
namespace {

using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;

// A manifest or a configuration is a few kilobytes; nothing a registry
// legitimately answers comes near this.
constexpr std::streamsize kMaxBody = 4 * 1024 * 1024;
constexpr int kMaxRedirects = 3;

const std::string kImageManifests =
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
const std::string kIndexes =
    "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json";

Poco::JSON::Object::Ptr parseObject(const std::string& text, const std::string& what) {
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(32);
        Poco::JSON::Object::Ptr object = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
        if (object) return object;
    } catch (const Poco::Exception&) {
        // said below (a bad cast of a non-object is a Poco::Exception too)
    }
    throw RegistryError(what + " is not a JSON object", false);
}

}  // namespace

struct RegistryClient::Answer {
    int status = 0;
    std::string contentType;
    std::string digest;  // Docker-Content-Digest
    std::string body;
    std::string reason;  // the status line's text, "Unauthorized"
    std::string wwwAuthenticate;
};

Poco::Net::Context::Ptr registryTlsContext(const std::string& host) {
    const std::string ca = "/etc/docker/certs.d/" + host + "/ca.crt";
    const bool ownCa = Poco::File(ca).exists();
    return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", ownCa ? ca : "",
                                  Poco::Net::Context::VERIFY_STRICT, 9, /*loadDefaultCAs=*/!ownCa);
}

RegistryClient::RegistryClient(RegistryCredentials credentials, std::chrono::seconds timeout)
    : credentials_(std::move(credentials)), timeout_(timeout), context_(registryTlsContext(credentials_.serverAddress)) {}

RegistryClient::Answer RegistryClient::send(const std::string& method, const std::string& path,
                                            const std::string& accept, const std::string& contentType,
                                            const std::string& body) const {
    const std::string registry = credentials_.serverAddress;
    Poco::URI uri("https://" + registry + path);
    const std::string what = method + " " + uri.toString();
    try {
        for (int hop = 0;; ++hop) {
            const bool home = uri.getAuthority() == registry && uri.getScheme() == "https";
            std::unique_ptr<Poco::Net::HTTPClientSession> session;
            if (uri.getScheme() == "https") {
                session = std::make_unique<Poco::Net::HTTPSClientSession>(
                    uri.getHost(), uri.getPort(), home ? context_ : registryTlsContext(uri.getAuthority()));
            } else {
                session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
            }
            session->setTimeout(Poco::Timespan(static_cast<long>(timeout_.count()), 0));
            HTTPRequest request(hop == 0 ? method : HTTPRequest::HTTP_GET, uri.getPathAndQuery(),
                                Poco::Net::HTTPMessage::HTTP_1_1);
            if (!accept.empty()) request.set("Accept", accept);
            // Only the registry itself gets the password: a redirect may lead to storage elsewhere.
            if (home && !credentials_.username.empty()) {
                Poco::Net::HTTPBasicCredentials(credentials_.username, credentials_.password).authenticate(request);
            }
            if (hop == 0 && !contentType.empty()) {
                request.setContentType(contentType);
                request.setContentLength64(static_cast<Poco::Int64>(body.size()));
            } else if (hop == 0 && method == HTTPRequest::HTTP_PUT) {
                request.setContentLength64(0);
            }
            std::ostream& out = session->sendRequest(request);
            if (hop == 0) out << body;
            HTTPResponse response;
            std::istream& in = session->receiveResponse(response);
            Answer answer;
            answer.status = response.getStatus();
            answer.reason = response.getReason();
            answer.contentType = response.getContentType();
            answer.digest = response.get("Docker-Content-Digest", "");
            answer.wwwAuthenticate = response.get("WWW-Authenticate", "");
            answer.body.resize(static_cast<std::size_t>(kMaxBody) + 1);
            in.read(answer.body.data(), kMaxBody + 1);
            answer.body.resize(static_cast<std::size_t>(in.gcount()));
            if (answer.body.size() > static_cast<std::size_t>(kMaxBody)) {
                throw RegistryError(what + ": the answer is larger than 4 MiB", false);
            }
            const bool redirect = answer.status == 301 || answer.status == 302 || answer.status == 303 ||
                                  answer.status == 307 || answer.status == 308;
            if (!redirect) return answer;
            if (hop == kMaxRedirects) throw RegistryError(what + ": more than 3 redirects", false);
            const std::string location = response.get("Location", "");
            if (location.empty()) throw RegistryError(what + ": a redirect without Location", false);
            uri.resolve(location);
        }
    } catch (const RegistryError&) {
        throw;
    } catch (const Poco::Exception& e) {
        // Refused, reset, timed out, a TLS handshake that failed: the registry
        // is not there now, which a later try may find otherwise.
        throw RegistryError(what + ": " + e.displayText(), true);
    }
}

namespace {

// Says what a status other than the expected ones means, as an error.
[[noreturn]] void refuse(const std::string& what, int status, const std::string& reason,
                         const std::string& wwwAuthenticate, const std::string& body) {
    if (status == 401 && wwwAuthenticate.rfind("Bearer", 0) == 0) {
        throw RegistryError(what + ": the registry asks for token authentication (WWW-Authenticate: Bearer), "
                                   "which slipway's release check does not speak; builder.republish = overwrite "
                                   "builds without asking the registry",
                            false);
    }
    if (status == 401 || status == 403) {
        throw RegistryError(what + ": the registry refused the credentials (" + std::to_string(status) + " " +
                                reason + "); check registry.username and registry.password_file",
                            false);
    }
    throw RegistryError(what + ": the registry answered " + std::to_string(status) + " " + reason + ": " +
                            body.substr(0, 200),
                        status >= 500);
}

}  // namespace

std::optional<PublishedImage> RegistryClient::find(const std::string& repository, const std::string& tag) {
    const std::string what = "looking up " + credentials_.serverAddress + "/" + repository + ":" + tag;
    const Answer manifest = send(HTTPRequest::HTTP_GET, "/v2/" + repository + "/manifests/" + tag,
                                 kImageManifests + ", " + kIndexes);
    if (manifest.status == 404) return std::nullopt;
    if (manifest.status != 200) refuse(what, manifest.status, manifest.reason, manifest.wwwAuthenticate, manifest.body);

    const Poco::JSON::Object::Ptr document = parseObject(manifest.body, what + ": its manifest");
    PublishedImage image;
    image.digest = manifest.digest;
    if (image.digest.empty()) throw RegistryError(what + ": the answer has no Docker-Content-Digest", false);
    const std::string mediaType = document->optValue<std::string>("mediaType", manifest.contentType);
    if (document->has("manifests") || (!mediaType.empty() && kIndexes.find(mediaType) != std::string::npos)) {
        image.index = true;
        return image;
    }
    const Poco::JSON::Object::Ptr config = document->getObject("config");
    if (!config || !config->has("digest")) throw RegistryError(what + ": its manifest names no configuration", false);
    const std::string configDigest = config->getValue<std::string>("digest");
    if (configDigest.rfind("sha256:", 0) != 0 || configDigest.size() != 71) {
        throw RegistryError(what + ": its configuration digest is not sha256:<64 hex>", false);
    }
    const Answer blob = send(HTTPRequest::HTTP_GET, "/v2/" + repository + "/blobs/" + configDigest, "");
    if (blob.status != 200) refuse(what + " (configuration " + configDigest + ")", blob.status, blob.reason, blob.wwwAuthenticate,
               blob.body);
    const Poco::JSON::Object::Ptr configuration = parseObject(blob.body, what + ": its configuration");
    const Poco::JSON::Object::Ptr inner = configuration->getObject("config");
    const Poco::JSON::Object::Ptr labels = inner ? inner->getObject("Labels") : nullptr;
    if (labels) {
        for (const std::string& name : labels->getNames()) {
            const Poco::Dynamic::Var value = labels->get(name);
            if (value.isString()) image.labels[name] = value.extract<std::string>();
        }
    }
    return image;
}

void RegistryClient::retag(const std::string& repository, const std::string& fromTag, const std::string& toTag) {
    const std::string what =
        "tagging " + credentials_.serverAddress + "/" + repository + ":" + fromTag + " as " + toTag;
    const Answer manifest = send(HTTPRequest::HTTP_GET, "/v2/" + repository + "/manifests/" + fromTag,
                                 kImageManifests + ", " + kIndexes);
    if (manifest.status != 200) refuse(what, manifest.status, manifest.reason, manifest.wwwAuthenticate, manifest.body);
    // The same bytes under the new tag: the same digest, nothing copied.
    const Answer put = send(HTTPRequest::HTTP_PUT, "/v2/" + repository + "/manifests/" + toTag, "",
                            manifest.contentType, manifest.body);
    if (put.status != 201 && put.status != 200) refuse(what, put.status, put.reason, put.wwwAuthenticate, put.body);
}

}  // namespace slipway
