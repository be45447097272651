#include "daemon/http/metrics_handler.h"

#include <iterator>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "daemon/http/http_response.h"
#include "storage/records.h"

namespace slipway {

namespace {

std::string renderConnections(const FrontDoorCounts& counts) {
    static const char* const kReasons[] = {"header_timeout", "body_timeout", "idle", "evicted", "framing", "buffers"};
    static_assert(std::size(kReasons) == static_cast<std::size_t>(Closed::Count));
    std::string out = "# HELP slipway_http_connections Connections open now.\n# TYPE slipway_http_connections gauge\n";
    out += "slipway_http_connections " + std::to_string(counts.open) + "\n";
    out += "# HELP slipway_http_buffered_bytes Bytes of requests still arriving, held in memory.\n"
           "# TYPE slipway_http_buffered_bytes gauge\n";
    out += "slipway_http_buffered_bytes " + std::to_string(counts.buffered) + "\n";
    out += "# HELP slipway_http_connections_closed_total Connections slipwayd closed itself, by why.\n"
           "# TYPE slipway_http_connections_closed_total counter\n";
    for (std::size_t i = 0; i < std::size(kReasons); ++i) {
        out += std::string("slipway_http_connections_closed_total{reason=\"") + kReasons[i] + "\"} " +
               std::to_string(counts.closed[i]) + "\n";
    }
    return out;
}

}  // namespace

MetricsHandler::MetricsHandler(const Metrics& metrics, Store& store, const std::function<FrontDoorCounts()>& connections)
    : metrics_(metrics), store_(store), connections_(connections) {}

void MetricsHandler::handleRequest(Poco::Net::HTTPServerRequest& /*request*/, Poco::Net::HTTPServerResponse& response) {
    std::string text;
    try {
        text = metrics_.render(store_.countJobs(RunState::Queued), store_.countOwnBuilds(RunState::Running)) +
               renderConnections(connections_());
    } catch (const std::exception& e) {
        sendError(response, Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "store unavailable", e.what());
        return;
    }
    response.setContentType("text/plain; version=0.0.4; charset=utf-8");
    response.setContentLength64(static_cast<Poco::Int64>(text.size()));
    response.send() << text;
}

}  // namespace slipway
