#pragma once

#include <memory>
#include <string>

#include "storage/sql.h"

namespace slipway::testing {

// A PostgreSQL cluster of the test's own, from Debian's postgresql package:
// initdb into a temporary folder, pg_ctl start on a free loopback port (and a
// socket in that folder), no system service. As root, the cluster runs as
// the postgres user (PostgreSQL refuses root). fsync is off: a test's data
// need not survive a power cut, only the server's own death, which commits
// survive as long as the machine runs (synchronous_commit stays on: a commit
// is written out of PostgreSQL before it is answered). Stopped and removed
// with the object.
// Throws std::runtime_error, saying why, when it cannot start.
class PostgresServer {
public:
    PostgresServer();
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // A libpq connection string for the cluster, as its superuser, without dbname.
    std::string conninfo() const;
    // pg_ctl stop -m immediate: the server goes away as in a crash.
    void kill();
    // Starts it again on the same port, with the same data.
    void start();

    unsigned short port() const { return port_; }

private:
    void pgctl(const std::vector<std::string>& args) const;

    std::string dir_;
    unsigned short port_ = 0;
    bool running_ = false;
};

// An empty database of a test's own, dropped with the object, on the server
// the tests of this process share (started on first use), or, with
// SLIPWAY_TEST_POSTGRES set (a connection string without dbname, as
// scripts/test.sh sets it for the one server it starts for every test
// process), on that server.
class TestDatabase {
public:
    TestDatabase();
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    const std::string& conninfo() const { return conninfo_; }

private:
    std::string server_;  // the server's connection string, without dbname
    std::string name_;
    std::string conninfo_;
};

// Runs `sql` (no parameters) on `conninfo`'s database; throws on failure.
void runSql(const std::string& conninfo, const std::string& sql);

}  // namespace slipway::testing
