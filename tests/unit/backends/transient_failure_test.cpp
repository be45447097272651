#include "backends/transient_failure.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(TransientFailure, RecognisesAnEngineThatCannotBeReached) {
    EXPECT_TRUE(engineUnreachable("docker build of x: docker exited with status 1: Cannot connect to the Docker daemon "
                                  "at unix:///var/run/docker.sock. Is the docker daemon running?"));
    EXPECT_TRUE(engineUnreachable("cannot reach the Docker engine at unix:///x.sock: Connection refused"));
    EXPECT_FALSE(engineUnreachable("docker build of x: The command '/bin/sh -c false' returned a non-zero code: 1"));
}

TEST(TransientFailure, RecognisesARegistryThatIsDownButNotOneThatRefuses) {
    EXPECT_TRUE(registryUnavailable("Get \"https://localhost:5443/v2/\": dial tcp 127.0.0.1:5443: connect: connection refused"));
    EXPECT_TRUE(registryUnavailable("received unexpected HTTP status: 503 Service Unavailable"));
    EXPECT_TRUE(registryUnavailable("net/http: TLS handshake timeout"));
    EXPECT_FALSE(registryUnavailable("unauthorized: authentication required"));
    EXPECT_FALSE(registryUnavailable("denied: requested access to the resource is denied"));
    EXPECT_FALSE(registryUnavailable("manifest invalid"));
}


TEST(TransientFailure, RecognisesAnImageRemovedBeforeItsBuildOrPushUsedIt) {
    EXPECT_TRUE(imageVanished("push of localhost:5443/web:v3: could not find image from tag localhost:5443/web:v3: "
                              "failed to get digest sha256:84a1: open /var/lib/docker/image/overlay2/imagedb/content/"
                              "sha256/84a1: no such file or directory"));
    EXPECT_TRUE(imageVanished("docker push of localhost:5443/web:v3: docker exited with status 1: An image does not "
                              "exist locally with the tag: localhost:5443/web"));
    EXPECT_TRUE(imageVanished("build of localhost:5443/web:v5 failed at step 3/3 (RUN sleep 0.2): failed to get "
                              "digest sha256:785d: open /var/lib/docker/image/overlay2/imagedb/content/sha256/785d: no "
                              "such file or directory"));
    // The engine, when the cached layer a step starts from was removed under the build.
    EXPECT_TRUE(imageVanished("build of localhost:46395/crash-a-api:v4 failed at step 4/11 (LABEL "
                              "io.slipway.build=82): unable to find image \"sha256:acaca96f2b26\""));
    EXPECT_FALSE(imageVanished("denied: requested access to the resource is denied"));
    EXPECT_FALSE(imageVanished("received unexpected HTTP status: 503 Service Unavailable"));
}

TEST(TransientFailure, NamesTheKindOfAFailureFromItsMessage) {
    EXPECT_EQ(failureKindOf("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon "
                            "running?"),
              FailureKind::EngineUnreachable);
    EXPECT_EQ(failureKindOf("received unexpected HTTP status: 503 Service Unavailable"), FailureKind::RegistryUnavailable);
    EXPECT_EQ(failureKindOf("An image does not exist locally with the tag: localhost:5443/web"), FailureKind::ImageVanished);
    EXPECT_EQ(failureKindOf("unauthorized: authentication required"), FailureKind::CredentialsRefused);
    EXPECT_EQ(failureKindOf("The command '/bin/sh -c false' returned a non-zero code: 1"), FailureKind::Other);
}

}  // namespace
}  // namespace slipway
