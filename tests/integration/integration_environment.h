#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/integration/tls_registry.h"
#include "tests/support/temp_dir.h"

namespace slipway::testing {

// What every integration test shares: the Docker engine (which must answer;
// the suite fails saying why when it does not), a base image imported offline,
// a TLS registry on a free loopback port, and GitHub's example payloads. All of it is removed at the end.
class IntegrationEnvironment : public ::testing::Environment {
public:
    void SetUp() override;
    void TearDown() override;

    static const TlsRegistry& registry();
    // The tag of the offline base image the fixtures' Dockerfiles start FROM.
    static const std::string& baseImage();

    // The index.json of @octokit/webhooks-examples (real GitHub payloads),
    // installed from the npm registry into the build tree on first use.
    static const std::string& webhookExamples();
    // GitHub's own OpenAPI description of its REST API (@octokit/openapi's
    // api.github.com.json), installed the same way.
    static const std::string& githubDescription();
};

}  // namespace slipway::testing
