#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <libpq-fe.h>

#include "storage/sql.h"

namespace slipway {

// The store's connection to a PostgreSQL database shared by several slipwayd
// nodes, through libpq. Opening it brings the schema up to date (one node at a
// time: the migrations hold an advisory lock). A connection that is lost is
// opened again by the next statement outside a transaction; until then, and
// inside the transaction it was lost in, statements fail as Unavailable.
class PostgresConnection final : public SqlConnection {
public:
    // `conninfo` is a libpq connection string or URI; `password`, when not
    // empty, is passed beside it (it never belongs in the configuration file).
    // Throws SqlError (Unavailable) when the server cannot be reached.
    PostgresConnection(const std::string& conninfo, const std::string& password);

    SqlDialect dialect() const override { return SqlDialect::Postgres; }
    SqlResult run(const std::string& sql, const std::vector<SqlValue>& params) override;
    void begin(bool immediate) override;
    void commit() override;
    void rollback() override;

    // The server's version and where it is, for the log: never the password.
    std::string describe() const;

private:
    struct Finish {
        void operator()(PGconn* connection) const { PQfinish(connection); }
    };
    using Connection = std::unique_ptr<PGconn, Finish>;

    // Makes sure a live connection is there; outside a transaction, one that
    // was lost is opened again.
    PGconn* live();
    void connect();
    // The server options the operator gave (the string's options=, or PGOPTIONS).
    std::string operatorOptions() const;

    std::string conninfo_;
    std::string password_;
    Connection connection_;
    bool inTransaction_ = false;
    // The SQL of each statement with its `?`s numbered as PostgreSQL wants them ($1, $2...).
    std::unordered_map<std::string, std::string> numbered_;
};

// Whether `text` is UTF-8 that PostgreSQL's text takes (no NUL byte).
bool validUtf8(const std::string& text);
// `text` with each byte that is not part of such UTF-8 replaced by U+FFFD:
// what a build's output cut mid-character, or a binary byte, becomes in a
// text column (SQLite keeps any byte).
std::string asUtf8(const std::string& text);

// `sql` with each `?` outside a quoted literal replaced by $1, $2, ...
std::string numberPlaceholders(const std::string& sql);

// The failure a SQLSTATE (and a connection's state) stands for.
SqlFailure classifySqlState(const std::string& sqlState, bool connectionLost);

}  // namespace slipway
