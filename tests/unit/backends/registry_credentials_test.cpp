#include "backends/registry_credentials.h"

#include <sstream>

#include <gtest/gtest.h>
#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>  // the encoding options
#include <Poco/JSON/Parser.h>
#include <Poco/StreamCopier.h>

namespace slipway {
namespace {

std::string decoded(const std::string& header) {
    std::istringstream in(header);
    Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING);
    std::string json;
    Poco::StreamCopier::copyToString(decoder, json);
    return json;
}

TEST(RegistryCredentials, EncodesTheAuthAsPaddedBase64UrlJson) {
    // A password whose standard base64 would hold '+' and '/'.
    const RegistryCredentials credentials{"localhost:5443", "ci-bot", "s3cr?t>>~~ \"quoted\" and long enough to "
                                                                      "need more than one base64 line"};
    const std::string header = registryAuthHeader(credentials);
    EXPECT_EQ(header.find_first_of("+/\r\n"), std::string::npos) << header;
    EXPECT_EQ(header.size() % 4, 0u) << "the engine wants the padding: " << header;

    Poco::JSON::Object::Ptr auth =
        Poco::JSON::Parser().parse(decoded(header)).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(auth->getValue<std::string>("username"), "ci-bot");
    EXPECT_EQ(auth->getValue<std::string>("password"), credentials.password);
    EXPECT_EQ(auth->getValue<std::string>("serveraddress"), "localhost:5443");
}

TEST(RegistryCredentials, SendsAnEmptyObjectWhenAnonymous) {
    EXPECT_EQ(registryAuthHeader({"localhost:5443", "", ""}), "e30=");
    EXPECT_EQ(decoded("e30="), "{}");
}

}  // namespace
}  // namespace slipway
