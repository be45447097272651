#include "storage/sqlite_connection.h"

#include <sqlite3.h>

#include "storage/database.h"

namespace slipway {

SqliteConnection::SqliteConnection(const std::string& path) : db_(openDatabase(path)), checkpointer_(db_, path) {}

SqlResult SqliteConnection::run(const std::string& sql, const std::vector<SqlValue>& params) {
    const StatementCache::Use statement = statements_.use(sql);
    int index = 1;
    for (const SqlValue& value : params) {
        if (const auto* integer = std::get_if<std::int64_t>(&value)) {
            statement->bind(index, *integer);
        } else if (const auto* text = std::get_if<std::string>(&value)) {
            statement->bind(index, *text);
        } else if (const auto* blob = std::get_if<SqlBlob>(&value)) {
            statement->bind(index, blob->bytes.data(), static_cast<int>(blob->bytes.size()));
        } else {
            statement->bind(index);
        }
        ++index;
    }
    // The changes of this statement alone: a SELECT changes none, where
    // sqlite3_changes would still report the last write's.
    const sqlite3_int64 before = sqlite3_total_changes64(db_.getHandle());
    SqlResult result;
    while (statement->executeStep()) {
        SqlRow row;
        const int columns = statement->getColumnCount();
        row.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            const SQLite::Column column = statement->getColumn(c);
            row.push_back(column.isNull() ? std::nullopt : std::optional<std::string>(column.getString()));
        }
        result.rows.push_back(std::move(row));
    }
    result.changed = sqlite3_total_changes64(db_.getHandle()) - before;
    if (result.changed > 0) result.insertedRowId = sqlite3_last_insert_rowid(db_.getHandle());
    return result;
}

void SqliteConnection::begin(bool immediate) {
    // BEGIN IMMEDIATE takes the write lock at once, which is what a webhook would need.
    statements_.use(immediate ? "BEGIN IMMEDIATE" : "BEGIN")->exec();
}

void SqliteConnection::commit() { statements_.use("COMMIT")->exec(); }

void SqliteConnection::rollback() { statements_.use("ROLLBACK")->exec(); }

}  // namespace slipway
