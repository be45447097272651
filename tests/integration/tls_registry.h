#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/background_process.h"

namespace slipway::testing {

// A real distribution registry (Debian's docker-registry) on a free loopback
// port, set up by scripts/make-registry-certs.sh: TLS with a certificate from a
// CA of its own, which the Docker engine trusts through
// /etc/docker/certs.d/<host>/ca.crt. With a user name it also requires htpasswd
// basic authentication. Stopped and forgotten (process, files, trust entry)
// when destroyed.
class TlsRegistry {
public:
    TlsRegistry(const std::string& dir, const std::string& user = "", const std::string& password = "");
    ~TlsRegistry();
    TlsRegistry(const TlsRegistry&) = delete;
    TlsRegistry& operator=(const TlsRegistry&) = delete;

    // localhost:<port>, as images name it.
    const std::string& host() const { return host_; }
    const std::string& caFile() const { return caFile_; }
    // The registry's certificate (for localhost and 127.0.0.1, signed by caFile()) and its key.
    const std::string& certificateFile() const { return certificateFile_; }
    const std::string& keyFile() const { return keyFile_; }

    // Stops the registry process (an outage); start() brings it back on the same
    // port, certificate and storage.
    void stop();
    void start();

    // Tags of repository `name`, sorted, from GET /v2/<name>/tags/list; empty when it has none.
    std::vector<std::string> tags(const std::string& name) const;

    // Docker-Content-Digest of <name>:<tag>'s manifest (or index), from HEAD /v2/<name>/manifests/<tag>.
    std::string manifestDigest(const std::string& name, const std::string& tag) const;

private:
    std::map<std::string, std::string> authHeaders() const;

    std::string dir_;
    std::string host_;
    std::string caFile_;
    std::string certificateFile_;
    std::string keyFile_;
    std::string trustDir_;
    std::string user_, password_;
    std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace slipway::testing
