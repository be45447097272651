#include "tests/integration/http_client.h"

#include <sstream>

#include <gtest/gtest.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace slipway::testing {

Poco::JSON::Object::Ptr HttpAnswer::json() const {
    try {
        Poco::Dynamic::Var parsed = Poco::JSON::Parser().parse(body);
        return parsed.extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not a JSON object (" << e.what() << "): " << body;
        return new Poco::JSON::Object;
    }
}

HttpAnswer httpRequest(const std::string& method, const std::string& url,
                       const std::map<std::string, std::string>& headers, const std::string& body,
                       const std::string& caFile) {
    const Poco::URI uri(url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
        Poco::Net::Context::Ptr context = new Poco::Net::Context(
            Poco::Net::Context::TLS_CLIENT_USE, "", "", caFile, Poco::Net::Context::VERIFY_STRICT, 9, false);
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : headers) {
        if (name == "Transfer-Encoding" && value == "chunked") {
            request.setChunkedTransferEncoding(true);
        } else {
            request.set(name, value);
        }
    }
    if (!request.getChunkedTransferEncoding() && (!body.empty() || method == "POST")) {
        request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    }
    session->sendRequest(request) << body;

    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    HttpAnswer answer;
    answer.status = response.getStatus();
    for (const auto& [name, value] : response) answer.headers[name] = value;
    std::ostringstream content;
    Poco::StreamCopier::copyStream(in, content);
    answer.body = content.str();
    return answer;
}

}  // namespace slipway::testing
