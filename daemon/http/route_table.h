#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "daemon/http/exchange.h"

namespace slipway {

// The numbers a route's {id} segments matched, in path order.
using PathIds = std::vector<std::int64_t>;

// Serves one request a route matched. May throw HttpError (http_response.h)
// for a refusal; any other exception is answered 503 by the router.
using Serve = std::function<void(BufferedRequest&, BufferedResponse&, const PathIds&)>;

// A method and a path pattern, and what serves them.
struct Route {
    std::string method;   // "GET", "POST"...; empty takes any method
    std::string pattern;  // literal segments and {id} (1 to 18 digits): "/api/builds/{id}/log"
    Serve serve;
};

// What a method and path found in the table.
struct RouteMatch {
    const Route* route = nullptr;  // null: no route for this method (see allow) or path
    PathIds ids;
    std::string allow;  // when the path matched but not the method: its methods, "GET, POST"
};

// Every path slipwayd serves, in one place. Matching is a pure function of
// the method and the path (no query), so it is unit-tested without a socket.
class RouteTable {
public:
    explicit RouteTable(std::vector<Route> routes);

    // The first route whose pattern and method match.
    RouteMatch find(const std::string& method, const std::string& path) const;

private:
    std::vector<Route> routes_;
};

}  // namespace slipway
