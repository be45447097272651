#include "tests/support/postgres_server.h"

#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <Poco/File.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/TemporaryFile.h>

#include "backends/process_runner.h"
#include "storage/postgres_connection.h"

namespace slipway::testing {
namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

// Runs a PostgreSQL program, as the postgres user when this process is root.
std::string runAs(const std::string& program, const std::vector<std::string>& args) {
    std::vector<std::string> argv = args;
    std::string command = kBin + program;
    if (::geteuid() == 0) {
        argv.insert(argv.begin(), {"--reuid=postgres", "--regid=postgres", "--init-groups", "--", command});
        command = "/usr/bin/setpriv";
    }
    std::ostringstream out;
    const ProcessResult result = runProcess(command, argv, out, std::chrono::seconds(120));
    if (result.exitCode != 0 || result.timedOut) {
        throw std::runtime_error("PostgreSQL for the tests: " + program + " failed (status " +
                                 std::to_string(result.exitCode) + "): " + out.str() +
                                 (Poco::File(kBin + program).exists()
                                      ? std::string()
                                      : " (is Debian's postgresql package installed? scripts/install-deps.sh installs it)"));
    }
    return out.str();
}

}  // namespace

PostgresServer::PostgresServer() : dir_(Poco::TemporaryFile::tempName()) {
    Poco::File(dir_).createDirectories();
    if (::geteuid() == 0) {
        const passwd* user = ::getpwnam("postgres");
        if (!user) throw std::runtime_error("PostgreSQL for the tests: no postgres user (install Debian's postgresql)");
        if (::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
            throw std::runtime_error("PostgreSQL for the tests: cannot hand " + dir_ + " to the postgres user");
        }
    }
    runAs("initdb", {"--pgdata=" + dir_ + "/data", "--auth=trust", "--username=postgres", "--no-sync",
                     "--encoding=UTF8", "--locale=C.UTF-8"});
    {
        const Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
        port_ = probe.address().port();
    }
    start();
}

PostgresServer::~PostgresServer() {
    try {
        if (running_) pgctl({"stop", "-m", "immediate"});
    } catch (const std::exception&) {
        // Removing the folder below is all that is left to do.
    }
    try {
        Poco::File(dir_).remove(true);
    } catch (...) {
    }
}

void PostgresServer::pgctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"--pgdata=" + dir_ + "/data", "--wait", "--timeout=60"};
    argv.insert(argv.end(), args.begin(), args.end());
    runAs("pg_ctl", argv);
}

void PostgresServer::start() {
    pgctl({"--log=" + dir_ + "/server.log", "start", "-o",
           "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_ +
               " -c fsync=off -c full_page_writes=off -c max_connections=200"});
    running_ = true;
}

void PostgresServer::kill() {
    pgctl({"stop", "-m", "immediate"});
    running_ = false;
}

std::string PostgresServer::conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres";
}

void runSql(const std::string& conninfo, const std::string& sql) {
    PGconn* connection = PQconnectdb(conninfo.c_str());
    const std::unique_ptr<PGconn, void (*)(PGconn*)> owned(connection, PQfinish);
    if (PQstatus(connection) != CONNECTION_OK) {
        throw std::runtime_error("cannot connect to the tests' PostgreSQL (" + conninfo + "): " +
                                 PQerrorMessage(connection));
    }
    const std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(connection, sql.c_str()), PQclear);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
    }
}

TestDatabase::TestDatabase() {
    static std::atomic<int> created{0};
    if (const char* shared = std::getenv("SLIPWAY_TEST_POSTGRES"); shared && *shared) {
        server_ = shared;
    } else {
        static std::mutex mutex;
        static std::unique_ptr<PostgresServer> own;
        std::lock_guard<std::mutex> lock(mutex);
        if (!own) own = std::make_unique<PostgresServer>();
        server_ = own->conninfo();
    }
    // Test processes run one after another and at once: the name has the process's id.
    name_ = "slipway_" + std::to_string(::getpid()) + "_" + std::to_string(++created);
    runSql(server_ + " dbname=postgres", "CREATE DATABASE " + name_);
    conninfo_ = server_ + " dbname=" + name_;
}

TestDatabase::~TestDatabase() {
    try {
        runSql(server_ + " dbname=postgres", "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
        // The server went with the test (killed on purpose): nothing is left to drop.
    }
}

}  // namespace slipway::testing
