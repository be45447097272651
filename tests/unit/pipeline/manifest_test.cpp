#include "daemon/pipeline/manifest.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

std::string entry(const std::string& name, const std::string& version) {
    return R"({"service_name": ")" + name + R"(", "type": "Docker", "version": ")" + version + R"("})";
}

std::string errorOf(const std::string& json) {
    const std::vector<ServiceEntry> entries = parseManifest(json);
    EXPECT_EQ(entries.size(), 1u);
    return entries.empty() ? "" : entries[0].error;
}

TEST(Manifest, ReadsTheDesignExample) {
    const auto entries = parseManifest("[" + entry("api", "1.4.2") + ", " + entry("worker", "0.9.0") + "]");
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].name, "api");
    EXPECT_EQ(entries[0].version, "1.4.2");
    EXPECT_EQ(entries[0].error, "");
    EXPECT_EQ(entries[1].name, "worker");
    EXPECT_EQ(entries[1].error, "");
}

TEST(Manifest, ReadsTheOptionalKeys) {
    const auto entries = parseManifest(
        R"([{"service_name": "api", "type": "Docker", "version": "1", "tags": ["latest", "stable"],
             "dockerfile": "docker/Dockerfile.prod", "build_args": {"GO_VERSION": "1.22", "_x": ""},
             "x-owner": "team-a"}])");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].error, "");
    EXPECT_EQ(entries[0].tags, (std::vector<std::string>{"latest", "stable"}));
    EXPECT_EQ(entries[0].dockerfile, "docker/Dockerfile.prod");
    EXPECT_EQ(entries[0].buildArgs, (std::map<std::string, std::string>{{"GO_VERSION", "1.22"}, {"_x", ""}}));
}

TEST(Manifest, TheThreeOriginalKeysStillMakeAnEntry) {
    const auto entries = parseManifest("[" + entry("api", "1.4.2") + "]");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].error, "");
    EXPECT_EQ(entries[0].dockerfile, "Dockerfile");
    EXPECT_TRUE(entries[0].tags.empty());
    EXPECT_TRUE(entries[0].buildArgs.empty());
}

TEST(Manifest, NamesAnUnknownKeyUnlessItStartsWithX) {
    const std::string error = errorOf(R"([{"service_name": "api", "type": "Docker", "version": "1", "tag": "x"}])");
    EXPECT_NE(error.find("images.json[0] (api): unknown key \"tag\""), std::string::npos) << error;
}

TEST(Manifest, RefusesBadOptionalKeysSayingWhich) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"("dockerfile": "../Dockerfile")", "\"dockerfile\" must be a path inside the service folder"},
        {R"("dockerfile": "/etc/passwd")", "\"dockerfile\" must be a path inside the service folder"},
        {R"("dockerfile": "-f")", "\"dockerfile\" must be a path inside the service folder"},
        {R"("dockerfile": 7)", "\"dockerfile\" must be a path inside the service folder"},
        {R"("build_args": ["A=1"])", "\"build_args\" must be an object"},
        {R"("build_args": {"A-B": "1"})", "build_args name \"A-B\" is not an ARG name"},
        {R"("build_args": {"A": 1})", "build_args \"A\" must be a string"},
        {R"("tags": "latest")", "\"tags\" must be an array"},
        {R"("tags": ["ok", "no way"])", "tags[1] \"no way\" is not a Docker tag"},
        {R"("tags": [7])", "tags[0] is not a Docker tag"},
        {R"("dockerfile": "a//b")", "none of them empty, '.' or '..', none starting with '-', at most 255 characters, "
                                    "not \"a//b\""},
        {R"("tags": ["1"])", "tags[0] \"1\" is the version itself"},
        {R"("tags": ["a", "a"])", "tags lists \"a\" twice"},
    };
    for (const auto& [json, expected] : cases) {
        const std::string error =
            errorOf(R"([{"service_name": "api", "type": "Docker", "version": "1", )" + json + "}]");
        EXPECT_NE(error.find(expected), std::string::npos) << json << ": " << error;
    }
}

TEST(Manifest, RefusesPathTraversalAndOptionLikeNames) {
    for (const char* name : {"../x", "a/../../b", "/etc/passwd", "-rf", "--help", "Api", "my service", ".."}) {
        const std::string error = errorOf("[" + entry(name, "1.0") + "]");
        EXPECT_NE(error.find("service_name must be"), std::string::npos) << name << ": " << error;
        EXPECT_NE(error.find("images.json[0]"), std::string::npos) << error;
    }
}

TEST(Manifest, RefusesBadTags) {
    for (const char* version : {"--help", "1;rm -rf /", "", "a b", ".1"}) {
        const std::string error = errorOf("[" + entry("api", version) + "]");
        EXPECT_NE(error.find("is not a Docker tag"), std::string::npos) << version << ": " << error;
        EXPECT_NE(error.find("images.json[0] (api)"), std::string::npos) << error;
    }
}

TEST(Manifest, RefusesWrongTypes) {
    EXPECT_NE(errorOf(R"([{"service_name": 7, "type": "Docker", "version": "1"}])").find("\"service_name\" must be a string"),
              std::string::npos);
    EXPECT_NE(errorOf(R"([{"service_name": "api", "type": "Docker", "version": 1.5}])").find("\"version\" must be a string"),
              std::string::npos);
    EXPECT_NE(errorOf(R"([{"service_name": "api", "type": null, "version": "1"}])").find("\"type\" must be a string"),
              std::string::npos);
    EXPECT_NE(errorOf(R"(["api"])").find("expected an object"), std::string::npos);
}

TEST(Manifest, RefusesMissingFields) {
    EXPECT_NE(errorOf(R"([{"type": "Docker", "version": "1"}])").find("missing \"service_name\""), std::string::npos);
    EXPECT_NE(errorOf(R"([{"service_name": "api", "version": "1"}])").find("missing \"type\""), std::string::npos);
    EXPECT_NE(errorOf(R"([{"service_name": "api", "type": "Docker"}])").find("missing \"version\""), std::string::npos);
}

TEST(Manifest, ReportsUnsupportedTypesPerService) {
    const auto entries = parseManifest(R"([{"service_name": "api", "type": "Helm", "version": "1"},)" +
                                       entry("worker", "2") + "]");
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_NE(entries[0].error.find("type \"Helm\" is not supported"), std::string::npos);
    EXPECT_EQ(entries[1].error, "");
}

TEST(Manifest, RefusesDuplicateServices) {
    const auto entries = parseManifest("[" + entry("api", "1") + "," + entry("api", "2") + "]");
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].error, "");
    EXPECT_NE(entries[1].error.find("appears more than once"), std::string::npos);
}

TEST(Manifest, RefusesFilesThatAreNotAnArrayOfServices) {
    EXPECT_THROW(parseManifest("{}"), ManifestError);
    EXPECT_THROW(parseManifest("\"api\""), ManifestError);
    EXPECT_THROW(parseManifest("[{"), ManifestError);
    EXPECT_THROW(parseManifest(""), ManifestError);
    try {
        parseManifest("[1,]");
        FAIL() << "no error";
    } catch (const ManifestError& e) {
        EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    }
}

TEST(Manifest, RefusesDeepNestingWithoutRecursingIntoIt) {
    const std::string deep = std::string(10000, '[') + std::string(10000, ']');
    EXPECT_THROW(parseManifest(deep), ManifestError);
}

TEST(Manifest, RefusesOversizedFiles) {
    const std::string big = "[" + std::string(kMaxManifestBytes, ' ') + "]";
    try {
        parseManifest(big);
        FAIL() << "no error";
    } catch (const ManifestError& e) {
        EXPECT_NE(std::string(e.what()).find("over the limit"), std::string::npos) << e.what();
    }
}

TEST(Manifest, ReadsPlatformsAndRefusesBadOnesSayingWhich) {
    const auto entries = parseManifest(
        R"([{"service_name": "api", "type": "Docker", "version": "1", "platforms": ["linux/arm64", "linux/amd64"]}])");
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].error, "");
    ASSERT_EQ(entries[0].platforms.size(), 2u);
    EXPECT_EQ(entries[0].platforms[0].text(), "linux/arm64");
    EXPECT_EQ(entries[0].platforms[1].text(), "linux/amd64");
    EXPECT_TRUE(parseManifest("[" + entry("api", "1") + "]")[0].platforms.empty());

    auto refusal = [](const std::string& platforms, const std::string& version = "1") {
        return errorOf(R"([{"service_name": "api", "type": "Docker", "version": ")" + version +
                       R"(", "platforms": )" + platforms + "}]");
    };
    EXPECT_NE(refusal(R"("linux/arm64")").find("\"platforms\" must be an array of platforms"), std::string::npos);
    EXPECT_NE(refusal("[]").find("from 1 to 8"), std::string::npos);
    EXPECT_NE(refusal("[1]").find("platforms[0] must be a string"), std::string::npos);
    EXPECT_NE(refusal(R"(["linux/aarch64"])").find("images.json[0] (api): platforms: \"linux/aarch64\": unknown "
                                                  "architecture \"aarch64\" (Docker calls it arm64)"),
              std::string::npos)
        << refusal(R"(["linux/aarch64"])");
    EXPECT_NE(refusal(R"(["linux/amd64", "linux/amd64"])").find("listed twice"), std::string::npos);
    // Each platform's image is pushed as <version>-<os>-<arch>, which must be a tag too.
    EXPECT_NE(refusal(R"(["linux/amd64", "linux/arm64"])", std::string(120, 'v')).find("too long for the tag"),
              std::string::npos);
    EXPECT_EQ(refusal(R"(["linux/amd64"])", std::string(120, 'v')), "") << "one platform pushes no tag of its own";
}

}  // namespace
}  // namespace slipway
