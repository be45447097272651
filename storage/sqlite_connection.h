#pragma once

#include <string>

#include <SQLiteCpp/Database.h>

#include "storage/sql.h"
#include "storage/statement_cache.h"
#include "storage/wal_checkpointer.h"

namespace slipway {

// The store's connection to its SQLite database file: opened (and migrated)
// by openDatabase, every statement prepared once and kept, and checkpoints
// moved off the path of commits (WalCheckpointer).
class SqliteConnection final : public SqlConnection {
public:
    explicit SqliteConnection(const std::string& path);

    SqlDialect dialect() const override { return SqlDialect::Sqlite; }
    SqlResult run(const std::string& sql, const std::vector<SqlValue>& params) override;
    void begin(bool immediate) override;
    void commit() override;
    void rollback() override;

private:
    SQLite::Database db_;
    // Preparing the same SQL again for every webhook delivery (its inserts,
    // the transaction's begin and commit) was a fifth of the time it took to
    // record one.
    StatementCache statements_{db_};
    WalCheckpointer checkpointer_;
};

}  // namespace slipway
