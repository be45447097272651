#include "daemon/http/route_table.h"

namespace slipway {
namespace {

// Matches `path` against `pattern` segment by segment, collecting {id}s.
bool matches(const std::string& pattern, const std::string& path, PathIds& ids) {
    ids.clear();
    std::string::size_type p = 0;
    std::string::size_type q = 0;
    while (p < pattern.size() && q <= path.size()) {
        if (pattern.compare(p, 4, "{id}") == 0) {
            std::string::size_type end = q;
            while (end < path.size() && path[end] >= '0' && path[end] <= '9') ++end;
            if (end == q || end - q > 18) return false;
            ids.push_back(std::stoll(path.substr(q, end - q)));
            p += 4;
            q = end;
            continue;
        }
        if (q >= path.size() || pattern[p] != path[q]) return false;
        ++p;
        ++q;
    }
    return p == pattern.size() && q == path.size();
}

}  // namespace

RouteTable::RouteTable(std::vector<Route> routes) : routes_(std::move(routes)) {}

RouteMatch RouteTable::find(const std::string& method, const std::string& path) const {
    RouteMatch match;
    PathIds ids;
    for (const Route& route : routes_) {
        if (!matches(route.pattern, path, ids)) continue;
        if (route.method.empty() || route.method == method) {
            match.route = &route;
            match.ids = ids;
            match.allow.clear();
            return match;
        }
        match.allow += (match.allow.empty() ? "" : ", ") + route.method;
    }
    return match;
}

}  // namespace slipway
