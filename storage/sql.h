#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace slipway {

// The two databases the store runs on. The store's SQL is written once, in
// what both understand; the few statements that differ switch on this.
enum class SqlDialect { Sqlite, Postgres };

// Bytes that need not be text (a build's log): SQLite's BLOB, PostgreSQL's BYTEA.
struct SqlBlob {
    std::string bytes;
};

// A value bound to one `?` of a statement.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, std::string, SqlBlob>;

// `text`, or NULL when it is empty: the store keeps no empty optional text.
inline SqlValue textOrNull(const std::string& text) {
    return text.empty() ? SqlValue(nullptr) : SqlValue(text);
}

// One row a statement returned: each column's text (a blob's bytes), nullopt for NULL.
using SqlRow = std::vector<std::optional<std::string>>;

// What one statement did: the rows it returned and how many rows it
// inserted, updated or deleted.
struct SqlResult {
    std::vector<SqlRow> rows;
    std::int64_t changed = 0;
    // SQLite only, when the statement changed rows: the connection's last
    // inserted rowid. After an INSERT that added rows, the last one's (what
    // RETURNING would give of a rowid column, without the temporary table
    // SQLite keeps a RETURNING clause's rows in); after an UPDATE, a DELETE
    // or an upsert that updated, an earlier insert's, which means nothing.
    std::int64_t insertedRowId = 0;
};

// Column `index` of `row` as text; empty for NULL.
std::string columnText(const SqlRow& row, std::size_t index);
// Column `index` of `row` as an integer; 0 for NULL.
std::int64_t columnInteger(const SqlRow& row, std::size_t index);

// Why a statement failed, as far as the caller can act on it.
enum class SqlFailure {
    Unavailable,  // the database cannot be reached or is shutting down: try again later
    Busy,         // a row stayed locked past lock_timeout (a node froze holding it): try again later
    Retry,        // a serialization failure or a deadlock: the transaction may simply run again
    Other,        // the statement itself was refused (a constraint, a syntax error...)
};

class SqlError : public std::runtime_error {
public:
    SqlError(SqlFailure failure, const std::string& what) : std::runtime_error(what), failure_(failure) {}
    SqlFailure failure() const { return failure_; }
    // Whether the database may well answer a moment later (Unavailable, Busy):
    // work that met it is to be left for later, never failed for good.
    bool passing() const { return failure_ == SqlFailure::Unavailable || failure_ == SqlFailure::Busy; }

private:
    SqlFailure failure_;
};

// One connection to the store's database. Not thread-safe: the store
// serialises its calls.
class SqlConnection {
public:
    virtual ~SqlConnection() = default;

    virtual SqlDialect dialect() const = 0;

    // Runs one statement with its `?`s bound to `params`, in order.
    virtual SqlResult run(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;

    // A transaction: begin() (`immediate` takes SQLite's write lock at once)
    // and then commit() or rollback(). A connection lost inside one is not
    // silently replaced: every statement fails until the transaction ends.
    virtual void begin(bool immediate = false) = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
};

// A transaction that rolls back unless committed.
class SqlTransaction {
public:
    explicit SqlTransaction(SqlConnection& connection, bool immediate = false) : connection_(connection) {
        connection_.begin(immediate);
    }
    ~SqlTransaction() {
        if (open_) {
            try {
                connection_.rollback();
            } catch (const std::exception&) {
                // The connection is gone, and the transaction with it.
            }
        }
    }
    SqlTransaction(const SqlTransaction&) = delete;
    SqlTransaction& operator=(const SqlTransaction&) = delete;

    // A commit that fails leaves the transaction open, to be rolled back.
    void commit() {
        connection_.commit();
        open_ = false;
    }

private:
    SqlConnection& connection_;
    bool open_ = true;
};

}  // namespace slipway
