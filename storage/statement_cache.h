#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace slipway {

// Prepared statements kept for the database's life. Preparing the same SQL
// again for every webhook delivery (an insert, a savepoint, a release) was a
// fifth of the time it took to record one. Not thread-safe: used under the
// store's lock, like the database itself.
class StatementCache {
public:
    explicit StatementCache(SQLite::Database& db) : db_(db) {}
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;

    // One use of a cached statement: its bindings and its cursor are reset
    // when the use ends, however it ends, so that no half-read query keeps a
    // read transaction open.
    class Use {
    public:
        explicit Use(SQLite::Statement& statement) : statement_(statement) {}
        ~Use() {
            statement_.tryReset();
            try {
                statement_.clearBindings();
            } catch (const SQLite::Exception&) {
                // Only a finalized statement fails to; every use binds all its parameters anyway.
            }
        }
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;

        SQLite::Statement& operator*() const { return statement_; }
        SQLite::Statement* operator->() const { return &statement_; }

    private:
        SQLite::Statement& statement_;
    };

    // The statement for `sql`, prepared on its first use. One use of a given
    // SQL at a time: a second would share, and reset, the first one's cursor.
    Use use(const std::string& sql) {
        std::unique_ptr<SQLite::Statement>& statement = statements_[sql];
        if (!statement) statement = std::make_unique<SQLite::Statement>(db_, sql);
        return Use(*statement);
    }

private:
    SQLite::Database& db_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

}  // namespace slipway
