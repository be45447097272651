#include "tests/integration/tls_registry.h"

#include <algorithm>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <Poco/Base64Encoder.h>
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/Net/NetException.h>

#include "tests/integration/command.h"
#include "tests/integration/http_client.h"

namespace slipway::testing {

TlsRegistry::TlsRegistry(const std::string& dir, const std::string& user, const std::string& password)
    : dir_(dir), user_(user), password_(password) {
    Poco::File(dir_).createDirectories();
    const unsigned short port = freeLoopbackPort();
    host_ = "localhost:" + std::to_string(port);
    // The project's own script makes the CA, the certificate, htpasswd, the
    // config and the engine's trust entry, so every push in the suite tests it.
    std::vector<std::string> args;
    if (!user_.empty()) {
        const std::string passwordFile = dir_ + "/password";
        std::ofstream(passwordFile) << password_ << "\n";
        args = {"--user", user_, "--password-file", passwordFile};
    }
    args.insert(args.end(), {dir_, host_});
    mustRun(std::string(SLIPWAY_SCRIPTS_DIR) + "/make-registry-certs.sh", args);
    caFile_ = dir_ + "/ca.crt";
    certificateFile_ = dir_ + "/registry.crt";
    keyFile_ = dir_ + "/registry.key";
    trustDir_ = "/etc/docker/certs.d/" + host_;
    start();
}

void TlsRegistry::stop() { process_.reset(); }

void TlsRegistry::start() {
    process_ = std::make_unique<BackgroundProcess>("docker-registry", std::vector<std::string>{"serve", dir_ + "/config.yml"},
                                                   dir_, dir_ + "/registry.log");
    for (int i = 0; i < 100; ++i) {
        try {
            if (httpRequest("GET", "https://" + host_ + "/v2/", authHeaders(), "", caFile_).status == 200) return;
        } catch (const Poco::Exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "docker-registry did not answer on https://" << host_ << "/v2/ within 10 s:\n" << process_->output();
}

TlsRegistry::~TlsRegistry() {
    process_.reset();
    try {
        Poco::File(trustDir_).remove(true);
    } catch (...) {
    }
}

std::map<std::string, std::string> TlsRegistry::authHeaders() const {
    if (user_.empty()) return {};
    std::ostringstream encoded;
    Poco::Base64Encoder encoder(encoded);
    encoder << user_ << ":" << password_;
    encoder.close();
    return {{"Authorization", "Basic " + encoded.str()}};
}

std::vector<std::string> TlsRegistry::tags(const std::string& name) const {
    const HttpAnswer answer = httpRequest("GET", "https://" + host_ + "/v2/" + name + "/tags/list", authHeaders(), "",
                                          caFile_);
    std::vector<std::string> result;
    if (answer.status != 200) return result;
    Poco::JSON::Object::Ptr body = answer.json();
    if (body->isNull("tags")) return result;
    Poco::JSON::Array::Ptr tags = body->getArray("tags");
    for (std::size_t i = 0; i < tags->size(); ++i) result.push_back(tags->getElement<std::string>(static_cast<unsigned>(i)));
    std::sort(result.begin(), result.end());
    return result;
}

std::string TlsRegistry::manifestDigest(const std::string& name, const std::string& tag) const {
    std::map<std::string, std::string> headers = authHeaders();
    // An index is answered as itself only to a client that takes indexes; to
    // others the registry answers one of the images it names.
    headers["Accept"] =
        "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, "
        "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
    const HttpAnswer answer =
        httpRequest("HEAD", "https://" + host_ + "/v2/" + name + "/manifests/" + tag, headers, "", caFile_);
    if (answer.status != 200) return {};
    auto it = answer.headers.find("Docker-Content-Digest");
    return it == answer.headers.end() ? std::string() : it->second;
}

}  // namespace slipway::testing
