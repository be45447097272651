#include "backends/image_name.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(ImageName, AcceptsDockerRepositoryNames) {
    for (const char* name : {"api", "worker2", "my-service", "my__svc", "a.b", "team/api", "a/b/c", "x--y"}) {
        EXPECT_TRUE(isValidRepositoryName(name)) << name;
    }
}

TEST(ImageName, RefusesPathsAndOptionsAsRepositoryNames) {
    for (const char* name : {"", "..", "../x", "a/../../b", "/etc", "-rf", "--help", "Api", "my service",
                             "a//b", "a/", "/", ".", "a_", "_a", "a;b", "a\nb", "a___b"}) {
        EXPECT_FALSE(isValidRepositoryName(name)) << name;
    }
}

TEST(ImageName, AcceptsDockerTags) {
    for (const std::string& tag : {std::string("1.4.2"), std::string("latest"), std::string("v1"), std::string("_x"),
                                   std::string("A-b.c_d"), std::string(128, 'a')}) {
        EXPECT_TRUE(isValidTag(tag)) << tag;
    }
}

TEST(ImageName, RefusesBadTags) {
    for (const std::string& tag : {std::string(""), std::string("--help"), std::string("-1"), std::string(".1"),
                                  std::string("1;rm"), std::string("a b"), std::string("1:2"),
                                  std::string(129, 'a')}) {
        EXPECT_FALSE(isValidTag(tag)) << tag;
    }
}

TEST(ImageName, ChecksRegistryHosts) {
    EXPECT_TRUE(isValidRegistryHost("localhost:5443"));
    EXPECT_TRUE(isValidRegistryHost("registry.example.org"));
    EXPECT_TRUE(isValidRegistryHost("127.0.0.1:5000"));
    EXPECT_FALSE(isValidRegistryHost("https://localhost"));
    EXPECT_FALSE(isValidRegistryHost("-x"));
    EXPECT_FALSE(isValidRegistryHost("host/path"));
    EXPECT_FALSE(isValidRegistryHost("localhost:99999"));
    EXPECT_FALSE(isValidRegistryHost("localhost:0"));
}

TEST(ImageName, KnowsWhatDockerReadsAsARegistry) {
    for (const char* host : {"localhost", "localhost:5443", "registry.example.com", "myregistry:5000", "10.0.0.1"}) {
        EXPECT_TRUE(dockerReadsAsRegistry(host)) << host;
    }
    for (const char* host : {"registry", "myregistry", "library"}) EXPECT_FALSE(dockerReadsAsRegistry(host)) << host;
}

TEST(ImageName, ComposesTheReference) {
    EXPECT_EQ(imageReference("localhost:5443", "api", "1.4.2"), "localhost:5443/api:1.4.2");
}

}  // namespace
}  // namespace slipway
