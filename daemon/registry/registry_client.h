#pragma once

#include <chrono>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>

#include "backends/registry_credentials.h"
#include "daemon/registry/image_registry.h"

namespace slipway {

// The TLS context slipway talks to `host` with: the CA Docker trusts for it
// (/etc/docker/certs.d/<host>/ca.crt) when there is one, so that slipway and
// the engine agree on whom they trust, and the system's CAs otherwise.
Poco::Net::Context::Ptr registryTlsContext(const std::string& host);

// ImageRegistry over the registry's HTTP API v2, over TLS, with the same
// credentials as the pushes (HTTP basic authentication, as docker-registry's
// htpasswd and most private registries take it). Reads Docker's schema 2
// manifests, manifest lists, OCI manifests and OCI indexes (an index's labels
// are those of the first image it names), and checks every manifest and
// configuration against its digest. Follows a read's redirects over https
// only. A registry that asks for token authentication is refused with an
// error saying so. Each call makes its own connections: thread-safe.
class RegistryClient final : public ImageRegistry {
public:
    RegistryClient(RegistryCredentials credentials, std::chrono::seconds timeout);

    std::optional<PublishedImage> find(const std::string& repository, const std::string& tag) override;
    void retag(const std::string& repository, const std::string& fromTag, const std::string& toTag) override;
    PlatformImage describe(const std::string& repository, const std::string& digest) override;
    // Writes a Docker manifest list when every image is a Docker schema 2
    // manifest (what docker push makes), an OCI image index otherwise.
    std::string publishIndex(const std::string& repository, const std::string& tag,
                             const std::vector<PlatformImage>& images) override;

private:
    struct Answer;
    // Sends one request to the registry, following its redirects (a blob may
    // live elsewhere); credentials go to the registry's own host only.
    Answer send(const std::string& method, const std::string& path, const std::string& accept,
                const std::string& contentType = "", const std::string& body = "") const;
    // GETs the manifest `reference` (a tag or a digest) names; a 200's digest
    // is computed from its bytes and checked against the registry's header.
    Answer manifest(const std::string& repository, const std::string& reference, const std::string& what) const;
    // The configuration blob the image manifest `document` names, read and
    // checked against its digest.
    Poco::JSON::Object::Ptr configuration(const std::string& repository, const Poco::JSON::Object& document,
                                          const std::string& what) const;

    RegistryCredentials credentials_;
    std::chrono::seconds timeout_;
    Poco::Net::Context::Ptr context_;
};

}  // namespace slipway
