#include "daemon/registry/registry_client.h"

#include <Poco/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLException.h>
#include <Poco/SHA2Engine.h>
#include <Poco/URI.h>

#include <sstream>

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

std::string sha256Of(const std::string& bytes) {
    Poco::SHA2Engine sha256(Poco::SHA2Engine::SHA_256);
    sha256.update(bytes);
    return "sha256:" + Poco::DigestEngine::digestToHex(sha256.digest());
}

bool isSha256Digest(const std::string& digest) {
    if (digest.size() != 71 || digest.rfind("sha256:", 0) != 0) return false;
    return digest.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

// The bytes a registry sent under `digest` must be those bytes: a storage
// host a blob is redirected to, or anything on the way, cannot hand slipway
// other labels than the ones published.
void checkDigest(const std::string& bytes, const std::string& digest, const std::string& what) {
    if (sha256Of(bytes) != digest) throw RegistryError(what + ": its content does not match its digest " + digest, false);
}

// Says what a status other than the expected ones means, as an error.
[[noreturn]] void refuse(const std::string& what, int status, const std::string& reason,
                         const std::string& wwwAuthenticate, const std::string& body) {
    if (status == 401 && wwwAuthenticate.rfind("Bearer", 0) == 0) {
        throw RegistryError(what + ": the registry asks for token authentication (WWW-Authenticate: Bearer), "
                                   "which slipway's registry requests (the release check and moving tags) do "
                                   "not speak; use a registry that takes basic authentication",
                            false);
    }
    if (status == 401 || status == 403) {
        throw RegistryError(what + ": the registry refused the credentials (" + std::to_string(status) + " " +
                                reason + "); check registry.username and registry.password_file",
                            false);
    }
    // Busy (429), a request it gave up waiting for (408), or down: worth another try.
    const bool transient = status >= 500 || status == 429 || status == 408;
    throw RegistryError(what + ": the registry answered " + std::to_string(status) + " " + reason + ": " +
                            body.substr(0, 200),
                        transient);
}

}  // namespace

struct RegistryClient::Answer {
    int status = 0;
    std::string reason;  // the status line's text, "Unauthorized"
    std::string contentType;
    std::string digest;  // Docker-Content-Digest
    std::string body;
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
    const Poco::URI registry("https://" + credentials_.serverAddress);
    Poco::URI uri("https://" + credentials_.serverAddress + path);
    const std::string what = method + " " + uri.toString();
    try {
        for (int hop = 0;; ++hop) {
            // Compared as host and port: "reg:443" and "reg" are the same registry.
            const bool home = uri.getHost() == registry.getHost() && uri.getPort() == registry.getPort();
            Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(),
                                                  home ? context_ : registryTlsContext(uri.getAuthority()));
            session.setTimeout(Poco::Timespan(static_cast<long>(timeout_.count()), 0));
            HTTPRequest request(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
            if (!accept.empty()) request.set("Accept", accept);
            // Only the registry itself gets the password: a redirect may lead to storage elsewhere.
            if (home && !credentials_.username.empty()) {
                Poco::Net::HTTPBasicCredentials(credentials_.username, credentials_.password).authenticate(request);
            }
            if (method == HTTPRequest::HTTP_PUT) {
                request.setContentType(contentType);
                request.setContentLength64(static_cast<Poco::Int64>(body.size()));
            }
            std::ostream& out = session.sendRequest(request);
            if (method == HTTPRequest::HTTP_PUT) out << body;
            HTTPResponse response;
            std::istream& in = session.receiveResponse(response);
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
            // A connection that broke off or timed out in the middle of the body.
            if (in.bad() || (response.hasContentLength() &&
                             static_cast<Poco::Int64>(answer.body.size()) < response.getContentLength64())) {
                throw RegistryError(what + ": the answer broke off after " + std::to_string(answer.body.size()) +
                                        " bytes",
                                    true);
            }
            const bool redirect = answer.status == 301 || answer.status == 302 || answer.status == 303 ||
                                  answer.status == 307 || answer.status == 308;
            if (!redirect) return answer;
            // Only a read is followed, and only over TLS: a write that is sent
            // elsewhere, or a blob fetched in clear, is refused.
            if (method != HTTPRequest::HTTP_GET) {
                throw RegistryError(what + ": the registry redirected a " + method + ", which slipway does not follow",
                                    false);
            }
            if (hop == kMaxRedirects) throw RegistryError(what + ": more than 3 redirects", false);
            const std::string location = response.get("Location", "");
            if (location.empty()) throw RegistryError(what + ": a redirect without Location", false);
            uri.resolve(location);
            if (uri.getScheme() != "https") {
                throw RegistryError(what + ": the registry redirected to " + uri.getScheme() + ", not https", false);
            }
        }
    } catch (const RegistryError&) {
        throw;
    } catch (const Poco::Net::CertificateValidationException& e) {
        // Trying again will not make the certificate valid.
        throw RegistryError(what + ": " + e.displayText(), false);
    } catch (const Poco::Exception& e) {
        // Refused, reset, timed out, a TLS handshake cut short: the registry
        // is not there now, which a later try may find otherwise.
        throw RegistryError(what + ": " + e.displayText(), true);
    }
}

RegistryClient::Answer RegistryClient::manifest(const std::string& repository, const std::string& reference,
                                                const std::string& what) const {
    Answer answer = send(HTTPRequest::HTTP_GET, "/v2/" + repository + "/manifests/" + reference,
                         kImageManifests + ", " + kIndexes);
    if (answer.status != 200) return answer;
    // The digest is the manifest's own: computed, and the registry's header checked against it.
    const std::string digest = sha256Of(answer.body);
    if (!answer.digest.empty() && answer.digest != digest) {
        throw RegistryError(what + ": its manifest does not match its Docker-Content-Digest " + answer.digest, false);
    }
    answer.digest = digest;
    return answer;
}

std::optional<PublishedImage> RegistryClient::find(const std::string& repository, const std::string& tag) {
    const std::string what = "looking up " + credentials_.serverAddress + "/" + repository + ":" + tag;
    Answer answer = manifest(repository, tag, what);
    if (answer.status == 404) return std::nullopt;
    if (answer.status != 200) refuse(what, answer.status, answer.reason, answer.wwwAuthenticate, answer.body);
    PublishedImage image;
    image.digest = answer.digest;
    try {
        Poco::JSON::Object::Ptr document = parseObject(answer.body, what + ": its manifest");
        const std::string mediaType = document->optValue<std::string>("mediaType", answer.contentType);
        if (document->has("manifests") || (!mediaType.empty() && kIndexes.find(mediaType) != std::string::npos)) {
            // An index names one manifest per platform (and, from BuildKit,
            // attestations under "unknown/unknown"): the labels are read from
            // the first image it names.
            image.index = true;
            const Poco::JSON::Array::Ptr manifests = document->getArray("manifests");
            std::string first;
            for (std::size_t i = 0; manifests && i < manifests->size(); ++i) {
                const Poco::JSON::Object::Ptr entry = manifests->getObject(static_cast<unsigned>(i));
                if (!entry) continue;
                const Poco::JSON::Object::Ptr platform = entry->getObject("platform");
                if (platform && platform->optValue<std::string>("architecture", "") == "unknown") continue;
                const std::string digest = entry->optValue<std::string>("digest", "");
                if (first.empty()) first = digest;
                if (platform) {
                    // Named as slipway names platforms, so that Docker's "arm64/v8" is linux/arm64.
                    image.platformDigests[platformNamed(platform->optValue<std::string>("os", ""),
                                                        platform->optValue<std::string>("architecture", ""),
                                                        platform->optValue<std::string>("variant", ""))
                                              .text()] = digest;
                }
            }
            if (first.empty()) return image;
            if (!isSha256Digest(first)) throw RegistryError(what + ": its index names a digest that is not sha256", false);
            answer = manifest(repository, first, what);
            if (answer.status != 200) refuse(what, answer.status, answer.reason, answer.wwwAuthenticate, answer.body);
            document = parseObject(answer.body, what + ": the image its index names first");
        }
        const Poco::JSON::Object::Ptr configuration = this->configuration(repository, *document, what);
        const Poco::JSON::Object::Ptr inner = configuration->getObject("config");
        const Poco::JSON::Object::Ptr labels = inner ? inner->getObject("Labels") : nullptr;
        if (labels) {
            for (const std::string& name : labels->getNames()) {
                const Poco::Dynamic::Var value = labels->get(name);
                if (value.isString()) image.labels[name] = value.extract<std::string>();
            }
        }
    } catch (const Poco::Exception& e) {
        // A field of the wrong type, say: the registry's answer, not the network.
        throw RegistryError(what + ": an answer of an unexpected form: " + e.displayText(), false);
    }
    return image;
}

Poco::JSON::Object::Ptr RegistryClient::configuration(const std::string& repository,
                                                      const Poco::JSON::Object& document,
                                                      const std::string& what) const {
    const Poco::JSON::Object::Ptr config = document.getObject("config");
    const std::string configDigest = config ? config->optValue<std::string>("digest", "") : "";
    if (!isSha256Digest(configDigest)) {
        throw RegistryError(what + ": its manifest names no sha256 configuration", false);
    }
    const Answer blob = send(HTTPRequest::HTTP_GET, "/v2/" + repository + "/blobs/" + configDigest, "");
    if (blob.status != 200) {
        refuse(what + " (configuration " + configDigest + ")", blob.status, blob.reason, blob.wwwAuthenticate,
               blob.body);
    }
    checkDigest(blob.body, configDigest, what + ": its configuration");
    return parseObject(blob.body, what + ": its configuration");
}

PlatformImage RegistryClient::describe(const std::string& repository, const std::string& digest) {
    const std::string what = "reading " + credentials_.serverAddress + "/" + repository + "@" + digest;
    if (!isSha256Digest(digest)) throw RegistryError(what + ": not a sha256 digest", false);
    const Answer answer = manifest(repository, digest, what);
    if (answer.status != 200) refuse(what, answer.status, answer.reason, answer.wwwAuthenticate, answer.body);
    if (answer.digest != digest) throw RegistryError(what + ": the registry answered another manifest", false);
    try {
        const Poco::JSON::Object::Ptr document = parseObject(answer.body, what + ": its manifest");
        PlatformImage image;
        image.digest = digest;
        image.size = answer.body.size();
        image.mediaType = document->optValue<std::string>("mediaType", answer.contentType);
        if (kImageManifests.find(image.mediaType) == std::string::npos || image.mediaType.empty()) {
            throw RegistryError(what + ": not the manifest of one image (" + image.mediaType + ")", false);
        }
        const Poco::JSON::Object::Ptr config = configuration(repository, *document, what);
        image.platform = platformNamed(config->optValue<std::string>("os", ""),
                                       config->optValue<std::string>("architecture", ""),
                                       config->optValue<std::string>("variant", ""));
        if (image.platform.os.empty() || image.platform.architecture.empty()) {
            throw RegistryError(what + ": its configuration names no os and architecture", false);
        }
        return image;
    } catch (const Poco::Exception& e) {
        throw RegistryError(what + ": an answer of an unexpected form: " + e.displayText(), false);
    }
}

std::string RegistryClient::publishIndex(const std::string& repository, const std::string& tag,
                                         const std::vector<PlatformImage>& images) {
    const std::string what = "publishing the index " + credentials_.serverAddress + "/" + repository + ":" + tag;
    const std::string dockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    bool allDocker = true;
    for (const PlatformImage& image : images) allDocker = allDocker && image.mediaType == dockerManifest;
    const std::string mediaType = allDocker ? "application/vnd.docker.distribution.manifest.list.v2+json"
                                            : "application/vnd.oci.image.index.v1+json";
    Poco::JSON::Array::Ptr manifests = new Poco::JSON::Array;
    for (const PlatformImage& image : images) {
        Poco::JSON::Object::Ptr platform = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        platform->set("architecture", image.platform.architecture);
        platform->set("os", image.platform.os);
        if (!image.platform.variant.empty()) platform->set("variant", image.platform.variant);
        Poco::JSON::Object::Ptr entry = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        entry->set("mediaType", image.mediaType);
        entry->set("digest", image.digest);
        entry->set("size", static_cast<Poco::UInt64>(image.size));
        entry->set("platform", platform);
        manifests->add(entry);
    }
    Poco::JSON::Object index(Poco::JSON_PRESERVE_KEY_ORDER);
    index.set("schemaVersion", 2);
    index.set("mediaType", mediaType);
    index.set("manifests", manifests);
    std::ostringstream text;
    index.stringify(text);
    const std::string body = text.str();
    const Answer put =
        send(HTTPRequest::HTTP_PUT, "/v2/" + repository + "/manifests/" + tag, "", mediaType, body);
    if (put.status != 201 && put.status != 200) refuse(what, put.status, put.reason, put.wwwAuthenticate, put.body);
    const std::string digest = sha256Of(body);
    if (!put.digest.empty() && put.digest != digest) {
        throw RegistryError(what + ": the registry stored it under another digest, " + put.digest, false);
    }
    return digest;
}

void RegistryClient::retag(const std::string& repository, const std::string& fromTag, const std::string& toTag) {
    const std::string what =
        "tagging " + credentials_.serverAddress + "/" + repository + ":" + fromTag + " as " + toTag;
    const Answer source = manifest(repository, fromTag, what);
    if (source.status != 200) refuse(what, source.status, source.reason, source.wwwAuthenticate, source.body);
    // The same bytes under the new tag: the same digest, nothing copied.
    std::string mediaType = source.contentType;
    if (mediaType.empty()) {
        mediaType = parseObject(source.body, what + ": its manifest")->optValue<std::string>("mediaType", "");
    }
    if (mediaType.empty()) throw RegistryError(what + ": its manifest says not what type it is", false);
    const Answer put = send(HTTPRequest::HTTP_PUT, "/v2/" + repository + "/manifests/" + toTag, "", mediaType,
                            source.body);
    if (put.status != 201 && put.status != 200) refuse(what, put.status, put.reason, put.wwwAuthenticate, put.body);
}

}  // namespace slipway
