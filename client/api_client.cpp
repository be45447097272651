#include "client/api_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <memory>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace slipway::client {
namespace {

using Poco::Net::HTTPRequest;

struct Exchange {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    Poco::Net::HTTPResponse response;
    std::istream* body = nullptr;
};

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
    try {
        return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
        throw std::runtime_error("slipwayd answered something that is not a JSON object: " + text.substr(0, 200));
    }
}

}  // namespace

ApiClient::ApiClient(std::string baseUrl, std::string token, std::chrono::seconds timeout)
    : baseUrl_(std::move(baseUrl)), token_(std::move(token)), timeout_(timeout) {
    while (!baseUrl_.empty() && baseUrl_.back() == '/') baseUrl_.pop_back();
}

namespace {

Exchange send(const std::string& baseUrl, const std::string& token, std::chrono::seconds timeout,
              const std::string& method, const std::string& path, const std::string& body) {
    Exchange exchange;
    const Poco::Timespan limit(static_cast<long>(timeout.count()), 0);
    try {
        const Poco::URI uri(baseUrl + path);
        if (uri.getScheme() == "https") {
            exchange.session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort());
        } else {
            exchange.session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
        }
        exchange.session->setTimeout(limit);
        HTTPRequest request(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
        if (!token.empty()) request.set("Authorization", "Bearer " + token);
        if (method == HTTPRequest::HTTP_POST) {
            request.setContentType("application/json");
            request.setContentLength64(static_cast<Poco::Int64>(body.size()));
        }
        exchange.session->sendRequest(request) << body;
        exchange.body = &exchange.session->receiveResponse(exchange.response);
    } catch (const Poco::TimeoutException&) {
        throw ConnectionError("slipwayd at " + baseUrl + " did not answer within " + std::to_string(timeout.count()) +
                              " s (--timeout)");
    } catch (const Poco::Net::NetException& e) {
        throw ConnectionError("cannot reach slipwayd at " + baseUrl + ": " + e.displayText());
    } catch (const Poco::IOException& e) {
        throw ConnectionError("cannot reach slipwayd at " + baseUrl + ": " + e.displayText());
    }
    const int status = exchange.response.getStatus();
    if (status >= 400) {
        std::ostringstream text;
        Poco::StreamCopier::copyStream(*exchange.body, text);
        std::string message = "HTTP " + std::to_string(status);
        try {
            const Poco::JSON::Object::Ptr error = parseObject(text.str());
            message = error->optValue<std::string>("error", message);
            const std::string detail = error->optValue<std::string>("detail", "");
            if (!detail.empty()) message += ": " + detail;
        } catch (const std::exception&) {
        }
        throw ApiError(status, message);
    }
    return exchange;
}

// Copies an answer's body to `out`, byte by byte as it arrives, flushing at
// each line (a followed log shows as it is written); a timeout or a broken
// connection throws ConnectionError rather than ending the body early.
void copyBody(Exchange& exchange, std::ostream& out, const std::string& baseUrl, std::chrono::seconds timeout) {
    try {
        std::streambuf* in = exchange.body->rdbuf();
        for (int c; (c = in->sbumpc()) != std::char_traits<char>::eof();) {
            out.put(static_cast<char>(c));
            if (c == '\n') out.flush();
        }
        out.flush();
    } catch (const Poco::TimeoutException&) {
        out.flush();
        throw ConnectionError("slipwayd at " + baseUrl + " sent nothing more for " + std::to_string(timeout.count()) +
                              " s (--timeout)");
    } catch (const Poco::Exception& e) {
        out.flush();
        throw ConnectionError("the connection to slipwayd at " + baseUrl + " broke: " + e.displayText());
    }
}

}  // namespace

Poco::JSON::Object::Ptr ApiClient::get(const std::string& path) const {
    Exchange exchange = send(baseUrl_, token_, timeout_, HTTPRequest::HTTP_GET, path, "");
    std::ostringstream text;
    copyBody(exchange, text, baseUrl_, timeout_);
    return parseObject(text.str());
}

Poco::JSON::Object::Ptr ApiClient::post(const std::string& path, const std::string& body) const {
    Exchange exchange = send(baseUrl_, token_, timeout_, HTTPRequest::HTTP_POST, path, body);
    std::ostringstream text;
    copyBody(exchange, text, baseUrl_, timeout_);
    return parseObject(text.str());
}

void ApiClient::stream(const std::string& path, std::ostream& out, bool unbounded) const {
    Exchange exchange = send(baseUrl_, token_, timeout_, HTTPRequest::HTTP_GET, path, "");
    if (unbounded) {
        // slipwayd sends nothing while a followed build is silent, for as long
        // as its step runs. TCP keepalive still finds a server host that went
        // away without closing the connection: within about two minutes.
        Poco::Net::StreamSocket& socket = exchange.session->socket();
        socket.setReceiveTimeout(Poco::Timespan(0));
        socket.setKeepAlive(true);
        socket.setOption(IPPROTO_TCP, TCP_KEEPIDLE, 60);
        socket.setOption(IPPROTO_TCP, TCP_KEEPINTVL, 10);
        socket.setOption(IPPROTO_TCP, TCP_KEEPCNT, 6);
    }
    copyBody(exchange, out, baseUrl_, timeout_);
}

}  // namespace slipway::client
