#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/git_fixture.h"
#include "tests/integration/integration_environment.h"
#include "tests/integration/slipway_process.h"
#include "tests/support/temp_dir.h"

namespace slipway::testing {

// One test of the whole pipeline, run once per backend (the parameter): a Git
// repository of its own, slipwayd configured for it and the shared registry.
class PipelineTest : public ::testing::TestWithParam<std::string> {
protected:
    static constexpr const char* kRepoName = "acme/monorepo";

    void SetUp() override {
        git_ = std::make_unique<GitFixture>(dir_.path() + "/repo");
    }

    void TearDown() override {
        if (HasFailure() && daemon_) std::cerr << "slipwayd said:\n" << daemon_->output();
        daemon_.reset();
    }

    // What startDaemon() configures: the test's backend and repository, the shared registry.
    DaemonOptions defaultOptions() const {
        DaemonOptions options;
        options.backend = GetParam();
        options.registryHost = IntegrationEnvironment::registry().host();
        options.repos = {{"mono", kRepoName, git_->url()}};
        return options;
    }

    // Starts slipwayd watching the test's repository.
    SlipwayProcess& startDaemon(const std::string& extraIni = "") {
        DaemonOptions options = defaultOptions();
        options.extraIni = extraIni;
        return startDaemon(options);
    }

    SlipwayProcess& startDaemon(const DaemonOptions& options) {
        daemon_ = std::make_unique<SlipwayProcess>(daemonDir(), options);
        return *daemon_;
    }

    // Where slipwayd keeps its config (slipway.ini) and its state (state/).
    std::string daemonDir() const { return dir_.path() + "/daemon"; }

    // A service folder whose Dockerfile copies a file of its own into the base image and runs a command.
    std::map<std::string, std::string> service(const std::string& name, const std::string& run = "cat /payload.txt") {
        return {{name + "/Dockerfile", "FROM " + IntegrationEnvironment::baseImage() +
                                           "\nCOPY payload.txt /payload.txt\nRUN " + run + "\n"},
                {name + "/payload.txt", "payload of " + name + "\n"}};
    }

    // A service name no other test (or backend run) uses, since the registry is shared.
    std::string unique(const std::string& name) const { return name + "-" + GetParam(); }

    // Sends a signed merged-PR webhook for `sha` and returns the id of the job it queued.
    std::int64_t deliverMerge(const std::string& sha, const std::string& delivery,
                              const std::string& path = "/hooks/github") {
        const HttpAnswer answer = daemon_->sendWebhook("pull_request", delivery,
                                                       pullRequestPayload(kRepoName, "closed", true, sha), path);
        EXPECT_EQ(answer.status, 202) << answer.body;
        Poco::JSON::Object::Ptr body = answer.json();
        if (!body->has("jobs") || body->getArray("jobs")->size() != 1) {
            ADD_FAILURE() << "expected one queued job: " << answer.body;
            return 0;
        }
        return body->getArray("jobs")->getElement<std::int64_t>(0);
    }

    TempDir dir_;
    std::unique_ptr<GitFixture> git_;
    std::unique_ptr<SlipwayProcess> daemon_;
};

// images.json listing `services` as (service_name, version), all of type Docker.
inline std::string imagesJson(const std::vector<std::pair<std::string, std::string>>& services) {
    std::string json = "[";
    for (const auto& [name, version] : services) {
        json += std::string(json.size() > 1 ? ", " : "") + R"({"service_name": ")" + name +
                R"(", "type": "Docker", "version": ")" + version + R"("})";
    }
    return json + "]";
}

// Merges maps of files.
inline std::map<std::string, std::string> files(std::initializer_list<std::map<std::string, std::string>> parts) {
    std::map<std::string, std::string> all;
    for (const auto& part : parts) all.insert(part.begin(), part.end());
    return all;
}

}  // namespace slipway::testing
