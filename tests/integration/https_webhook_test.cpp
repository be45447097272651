#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>

#include "tests/integration/pipeline_fixture.h"

namespace slipway::testing {
namespace {

// slipwayd serving HTTPS itself (server.tls_certificate / tls_key), with the
// certificate scripts/make-registry-certs.sh made for localhost: the same
// files the shared registry serves, so the script's output is checked by the
// registry, the Docker engine and slipwayd alike.
class HttpsWebhook : public PipelineTest {
protected:
    SlipwayProcess& startHttpsDaemon() {
        const TlsRegistry& registry = IntegrationEnvironment::registry();
        DaemonOptions options;
        options.backend = GetParam();
        options.registryHost = registry.host();
        options.repos = {{"mono", kRepoName, git_->url()}};
        options.tlsCertificate = registry.certificateFile();
        options.tlsKey = registry.keyFile();
        options.caFile = registry.caFile();
        daemon_ = std::make_unique<SlipwayProcess>(dir_.path() + "/daemon", options);
        return *daemon_;
    }

    // GET /healthz over TLS offering `minimum` and up, less `disabled`; the
    // status, or 0 when no answer came (the handshake failed).
    int healthzWith(Poco::Net::Context::Protocols minimum, int disabled) {
        Poco::Net::Context::Params params;
        params.caLocation = IntegrationEnvironment::registry().caFile();
        params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
        // OpenSSL 3 offers TLS 1.1 only at security level 0: let the client
        // try it, so that only the server's refusal can stop it.
        params.cipherList = "DEFAULT:@SECLEVEL=0";
        Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        context->requireMinimumProtocol(minimum);
        if (disabled != 0) context->disableProtocols(disabled);
        try {
            Poco::Net::HTTPSClientSession session("localhost", daemon_->port(), context);
            session.setTimeout(Poco::Timespan(10, 0));
            Poco::Net::HTTPRequest request("GET", "/healthz", Poco::Net::HTTPMessage::HTTP_1_1);
            session.sendRequest(request);
            Poco::Net::HTTPResponse response;
            session.receiveResponse(response);
            return response.getStatus();
        } catch (const Poco::Exception& e) {
            handshakeError_ = e.displayText();
            return 0;
        }
    }

    std::string handshakeError_;
};

TEST_P(HttpsWebhook, ASignedMergeOverTlsIsQueuedBuiltAndPushed) {
    const std::string name = unique("over-tls");
    const std::string sha = git_->commit(files(
        {service(name), {{"images.json", R"([{"service_name": ")" + name + R"(", "type": "Docker", "version": "2.0.0"}])"}}}));
    SlipwayProcess& daemon = startHttpsDaemon();
    ASSERT_EQ(daemon.url("/").rfind("https://", 0), 0u);
    EXPECT_NE(daemon.output().find("listening on https://"), std::string::npos) << daemon.output();

    const Poco::JSON::Object::Ptr job = daemon.waitForJob(deliverMerge(sha, "tls-" + GetParam()));
    EXPECT_EQ(job->getValue<std::string>("state"), "succeeded") << daemon.output();
    EXPECT_EQ(IntegrationEnvironment::registry().tags(name), std::vector<std::string>{"2.0.0"});

    const HttpAnswer ping = daemon.sendWebhook("ping", "tls-ping-" + GetParam(), R"({"zen": "Keep it logically awesome."})");
    EXPECT_EQ(ping.status, 200) << ping.body;
    const HttpAnswer forged = daemon.sendWebhook("ping", "tls-forged-" + GetParam(), "{}", "/hooks/github",
                                                 "sha256=" + std::string(64, '0'));
    EXPECT_EQ(forged.status, 401);
}

TEST_P(HttpsWebhook, PlainHttpToTheTlsPortGetsNoAnswer) {
    SlipwayProcess& daemon = startHttpsDaemon();
    int status = 0;
    try {
        status = httpRequest("GET", "http://127.0.0.1:" + std::to_string(daemon.port()) + "/healthz").status;
    } catch (const Poco::Exception&) {
        status = -1;  // the connection was dropped: what a TLS port should do with plain HTTP
    }
    EXPECT_EQ(status, -1) << "plain HTTP got an HTTP answer from the TLS port";
    EXPECT_EQ(daemon.get("/healthz").status, 200) << "and HTTPS still works after it";
}

TEST_P(HttpsWebhook, OnlyTls12AndNewerAreSpoken) {
    startHttpsDaemon();
    using Poco::Net::Context;
    EXPECT_EQ(healthzWith(Context::PROTO_TLSV1_1, Context::PROTO_TLSV1_2 | Context::PROTO_TLSV1_3), 0)
        << "a TLS 1.1 client was answered";
    EXPECT_EQ(healthzWith(Context::PROTO_TLSV1, Context::PROTO_TLSV1_1 | Context::PROTO_TLSV1_2 | Context::PROTO_TLSV1_3), 0)
        << "a TLS 1.0 client was answered";
    EXPECT_EQ(healthzWith(Context::PROTO_TLSV1_2, Context::PROTO_TLSV1_3), 200) << "TLS 1.2: " << handshakeError_;
    EXPECT_EQ(healthzWith(Context::PROTO_TLSV1_3, 0), 200) << "TLS 1.3: " << handshakeError_;
}

INSTANTIATE_TEST_SUITE_P(Backends, HttpsWebhook, ::testing::Values("cli"));

}  // namespace
}  // namespace slipway::testing
