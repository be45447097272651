#include "daemon/http/route_table.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

const Serve kNothing = [](BufferedRequest&, BufferedResponse&, const PathIds&) {};

RouteTable table() {
    return RouteTable({
        {"POST", "/hooks/github", kNothing},
        {"GET", "/api/builds", kNothing},
        {"POST", "/api/builds", kNothing},
        {"GET", "/api/builds/{id}", kNothing},
        {"GET", "/api/builds/{id}/log", kNothing},
        {"POST", "/api/builds/{id}/retry", kNothing},
        {"", "/healthz", kNothing},
    });
}

TEST(RouteTable, FindsTheRouteOfAMethodAndPath) {
    const RouteTable routes = table();
    const RouteMatch match = routes.find("POST", "/api/builds");
    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->method, "POST");
    EXPECT_EQ(match.route->pattern, "/api/builds");
}

TEST(RouteTable, CapturesIdSegments) {
    const RouteTable routes = table();
    RouteMatch match = routes.find("GET", "/api/builds/42/log");
    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->pattern, "/api/builds/{id}/log");
    EXPECT_EQ(match.ids, (PathIds{42}));
    match = routes.find("GET", "/api/builds/123456789012345678");
    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.ids, (PathIds{123456789012345678}));
}

TEST(RouteTable, AnIdIsOneToEighteenDigits) {
    const RouteTable routes = table();
    for (const char* path : {"/api/builds/", "/api/builds/x", "/api/builds/1x", "/api/builds/-1",
                             "/api/builds/1234567890123456789", "/api/builds/1/", "/api/builds/1/logs"}) {
        const RouteMatch match = routes.find("GET", path);
        EXPECT_EQ(match.route, nullptr) << path;
        EXPECT_EQ(match.allow, "") << path;
    }
}

TEST(RouteTable, AMethodThePathDoesNotTakeListsEveryOneItDoes) {
    const RouteTable routes = table();
    RouteMatch match = routes.find("PUT", "/api/builds");
    EXPECT_EQ(match.route, nullptr);
    EXPECT_EQ(match.allow, "GET, POST");
    match = routes.find("GET", "/api/builds/7/retry");
    EXPECT_EQ(match.route, nullptr);
    EXPECT_EQ(match.allow, "POST");
    match = routes.find("GET", "/hooks/github");
    EXPECT_EQ(match.allow, "POST");
}

TEST(RouteTable, ARouteWithoutAMethodTakesAnyMethod) {
    const RouteTable routes = table();
    EXPECT_NE(routes.find("GET", "/healthz").route, nullptr);
    EXPECT_NE(routes.find("HEAD", "/healthz").route, nullptr);
    EXPECT_NE(routes.find("POST", "/healthz").route, nullptr);
}

TEST(RouteTable, AnUnknownPathMatchesNothing) {
    const RouteMatch match = table().find("GET", "/api/unknown");
    EXPECT_EQ(match.route, nullptr);
    EXPECT_EQ(match.allow, "");
}

}  // namespace
}  // namespace slipway
