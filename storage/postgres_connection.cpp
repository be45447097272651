#include "storage/postgres_connection.h"

#include <cstdint>
#include <cstdlib>

#include "storage/database.h"

namespace slipway {
namespace {

struct Clear {
    void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, Clear>;

// Every migration takes this advisory lock first, so that nodes started at
// once bring the schema up one after the other.
const char* const kMigrationLock = "SELECT pg_advisory_xact_lock(7363127001)";

// The type of bytea columns (pg_type.oid), whose text form is hex.
constexpr Oid kByteaOid = 17;

// The bytes of bytea's text form, \x and two hex digits a byte.
std::string decodeBytea(const char* text, std::size_t length) {
    if (length < 2 || text[0] != '\\' || text[1] != 'x') {
        throw SqlError(SqlFailure::Other, "PostgreSQL sent a bytea value not in hex form (bytea_output = hex)");
    }
    auto nibble = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw SqlError(SqlFailure::Other, "PostgreSQL sent a bytea value with a byte that is not hex");
    };
    if (length % 2 != 0) throw SqlError(SqlFailure::Other, "PostgreSQL sent a bytea value of an odd length");
    std::string bytes;
    bytes.reserve((length - 2) / 2);
    for (std::size_t i = 2; i < length; i += 2) {
        bytes += static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
    }
    return bytes;
}

std::string connectionError(PGconn* connection) {
    std::string message = connection ? PQerrorMessage(connection) : "out of memory";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return message;
}

}  // namespace

bool validUtf8(const std::string& text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        const unsigned char c = *p;
        std::size_t extra = 0;
        std::uint32_t min = 0;
        if (c == 0) return false;  // text cannot hold NUL
        if (c < 0x80) {
            ++p;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, min = 0x10000;
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) <= extra) return false;
        std::uint32_t code = c & (0x3F >> extra);
        for (std::size_t i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            code = code << 6 | (p[i] & 0x3F);
        }
        // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
        if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return false;
        p += extra + 1;
    }
    return true;
}

std::string asUtf8(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        // The longest valid sequence from here, or U+FFFD for one byte.
        std::size_t length = 1;
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0xF0) length = 4;
        else if (c >= 0xE0) length = 3;
        else if (c >= 0xC0) length = 2;
        if (i + length <= text.size() && validUtf8(text.substr(i, length))) {
            out.append(text, i, length);
            i += length;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

std::string numberPlaceholders(const std::string& sql) {
    std::string numbered;
    numbered.reserve(sql.size() + 16);
    int next = 1;
    bool quoted = false;
    for (const char c : sql) {
        if (c == '\'') quoted = !quoted;  // '' inside a literal toggles twice
        if (c == '?' && !quoted) {
            numbered += '$' + std::to_string(next++);
        } else {
            numbered += c;
        }
    }
    return numbered;
}

SqlFailure classifySqlState(const std::string& sqlState, bool connectionLost) {
    // Class 08: connection exceptions; 57P01-57P03: the server shutting down
    // or starting; 57P05 and 25P03: this session ended for idling (in a
    // transaction); 53300: too many connections.
    if (connectionLost || sqlState.rfind("08", 0) == 0 || sqlState == "57P01" || sqlState == "57P02" ||
        sqlState == "57P03" || sqlState == "57P05" || sqlState == "25P03" || sqlState == "53300") {
        return SqlFailure::Unavailable;
    }
    // A row held past lock_timeout, by a node that froze mid-transaction
    // until the server ends its session.
    if (sqlState == "55P03") return SqlFailure::Busy;
    // Serialization failure and deadlock: running the transaction again succeeds.
    if (sqlState == "40001" || sqlState == "40P01") return SqlFailure::Retry;
    return SqlFailure::Other;
}

PostgresConnection::PostgresConnection(const std::string& conninfo, const std::string& password)
    : conninfo_(conninfo), password_(password) {
    connect();
    const std::vector<const char*>& migrations = postgresMigrations();
    SqlTransaction tx(*this);
    run(kMigrationLock, {});
    run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", {});
    SqlResult current = run("SELECT version FROM schema_version", {});
    if (current.rows.empty()) {
        run("INSERT INTO schema_version (version) VALUES (0)", {});
        current = run("SELECT version FROM schema_version", {});
    }
    int version = static_cast<int>(columnInteger(current.rows.at(0), 0));
    if (version > static_cast<int>(migrations.size())) {
        throw SqlError(SqlFailure::Other, "the PostgreSQL database has schema version " + std::to_string(version) +
                                              ", newer than this slipway understands (" +
                                              std::to_string(migrations.size()) + ")");
    }
    for (; version < static_cast<int>(migrations.size()); ++version) {
        const Result result(PQexec(connection_.get(), migrations[static_cast<std::size_t>(version)]));
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
            const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
            throw SqlError(classifySqlState(state ? state : "", PQstatus(connection_.get()) != CONNECTION_OK),
                           "PostgreSQL schema migration " + std::to_string(version + 1) + " failed: " +
                               connectionError(connection_.get()));
        }
        run("UPDATE schema_version SET version = ?", {std::int64_t{version + 1}});
    }
    tx.commit();
}

void PostgresConnection::connect() {
    // What a node needs of every session. The timeouts keep one node that
    // froze or lost the network from holding the others up: its transaction
    // is ended (and its locks let go) after 30 s idle in it, a lock is waited
    // for 10 s at most, and the server drops a connection that stopped
    // answering within half a minute, with the duties' locks. They come
    // before the operator's own options (the later -c of a setting wins);
    // the connection's defaults come before the configured string, which may
    // override them (libpq takes the later of two equal keywords, and
    // expand_dbname lets that string be a URI as well as key=value pairs);
    // what the code depends on (UTF-8, hex bytea) and the password come last.
    std::string options =
        "-c lock_timeout=10s -c idle_in_transaction_session_timeout=30s -c tcp_keepalives_idle=10 "
        "-c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 -c tcp_user_timeout=30000";
    if (const std::string own = operatorOptions(); !own.empty()) options += " " + own;
    options += " -c bytea_output=hex";
    const char* keys[] = {"application_name", "connect_timeout", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "dbname", "options", "client_encoding",
                          "password", nullptr};
    const char* values[] = {"slipwayd", "10", "10", "5", "3", "30000", conninfo_.c_str(), options.c_str(), "UTF8",
                            password_.empty() ? nullptr : password_.c_str(), nullptr};
    connection_.reset(PQconnectdbParams(keys, values, 1));
    if (!connection_ || PQstatus(connection_.get()) != CONNECTION_OK) {
        const std::string why = connectionError(connection_.get());
        connection_.reset();
        throw SqlError(SqlFailure::Unavailable, "cannot connect to PostgreSQL: " + why);
    }
    // Notices (a CREATE ... IF NOT EXISTS that found it) are not for stderr.
    PQsetNoticeProcessor(connection_.get(), [](void*, const char*) {}, nullptr);
}

std::string PostgresConnection::operatorOptions() const {
    // The configured string's options=, else libpq's PGOPTIONS: the one
    // options keyword given here replaces either.
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo_.c_str(), &error);
    PQfreemem(error);
    std::string own;
    if (parsed) {
        for (PQconninfoOption* option = parsed; option->keyword; ++option) {
            if (std::string(option->keyword) == "options" && option->val) own = option->val;
        }
        PQconninfoFree(parsed);
    }
    if (own.empty()) {
        if (const char* environment = std::getenv("PGOPTIONS")) own = environment;
    }
    return own;
}

std::string PostgresConnection::describe() const {
    if (!connection_) return "PostgreSQL (not connected)";
    const char* host = PQhost(connection_.get());
    return std::string("PostgreSQL ") + std::to_string(PQserverVersion(connection_.get())) + " at " +
           (host ? host : "?") + ":" + PQport(connection_.get()) + ", database " + PQdb(connection_.get());
}

PGconn* PostgresConnection::live() {
    if (connection_ && PQstatus(connection_.get()) == CONNECTION_OK) return connection_.get();
    if (inTransaction_) {
        // Its statements so far are gone with it: opening another connection
        // here would run the rest of the transaction without them.
        throw SqlError(SqlFailure::Unavailable, "the connection to PostgreSQL was lost in a transaction");
    }
    connect();
    return connection_.get();
}

SqlResult PostgresConnection::run(const std::string& sql, const std::vector<SqlValue>& params) {
    PGconn* connection = live();
    auto found = numbered_.find(sql);
    if (found == numbered_.end()) found = numbered_.emplace(sql, numberPlaceholders(sql)).first;
    // Every value is sent as text and typed by the server from its place in the statement.
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (const auto* integer = std::get_if<std::int64_t>(&params[i])) {
            texts[i] = std::to_string(*integer);
            values[i] = texts[i].c_str();
        } else if (const auto* text = std::get_if<std::string>(&params[i])) {
            if (validUtf8(*text)) {
                values[i] = text->c_str();
            } else {
                texts[i] = asUtf8(*text);
                values[i] = texts[i].c_str();
            }
        } else if (const auto* blob = std::get_if<SqlBlob>(&params[i])) {
            // bytea's text form: \x and two hex digits a byte.
            static const char kHex[] = "0123456789abcdef";
            texts[i].reserve(2 + 2 * blob->bytes.size());
            texts[i] = "\\x";
            for (const unsigned char c : blob->bytes) {
                texts[i] += kHex[c >> 4];
                texts[i] += kHex[c & 15];
            }
            values[i] = texts[i].c_str();
        }
    }
    const Result result(PQexecParams(connection, found->second.c_str(), static_cast<int>(params.size()), nullptr,
                                     values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
        const bool lost = PQstatus(connection) != CONNECTION_OK;
        std::string message = result ? PQresultErrorMessage(result.get()) : "";
        if (message.empty()) message = connectionError(connection);
        while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
        throw SqlError(classifySqlState(state ? state : "", lost), "PostgreSQL: " + message);
    }
    SqlResult out;
    const int rows = PQntuples(result.get());
    const int columns = PQnfields(result.get());
    out.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
        SqlRow row;
        row.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            if (PQgetisnull(result.get(), r, c)) {
                row.emplace_back(std::nullopt);
                continue;
            }
            const char* value = PQgetvalue(result.get(), r, c);
            const auto length = static_cast<std::size_t>(PQgetlength(result.get(), r, c));
            row.emplace_back(PQftype(result.get(), c) == kByteaOid ? decodeBytea(value, length)
                                                                   : std::string(value, length));
        }
        out.rows.push_back(std::move(row));
    }
    // PQcmdTuples counts a SELECT's rows too; only writes count as changes.
    const char* changed = PQcmdTuples(result.get());
    const bool write = std::string(PQcmdStatus(result.get())).rfind("SELECT", 0) != 0;
    out.changed = write && changed && *changed ? std::strtoll(changed, nullptr, 10) : 0;
    return out;
}

void PostgresConnection::begin(bool) {
    run("BEGIN", {});
    inTransaction_ = true;
}

void PostgresConnection::commit() {
    // A connection lost since BEGIN took the transaction with it: say so,
    // rather than send COMMIT where it cannot arrive.
    if (!connection_ || PQstatus(connection_.get()) != CONNECTION_OK) {
        inTransaction_ = false;
        throw SqlError(SqlFailure::Unavailable, "the connection to PostgreSQL was lost before the commit");
    }
    const Result result(PQexec(connection_.get(), "COMMIT"));
    inTransaction_ = false;  // committed, rolled back or lost: either way it has ended
    const char* tag = result ? PQcmdStatus(result.get()) : "";
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK || std::string(tag) != "COMMIT") {
        // PostgreSQL answers COMMIT of a transaction a statement failed in with ROLLBACK.
        const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
        throw SqlError(classifySqlState(state ? state : "", PQstatus(connection_.get()) != CONNECTION_OK),
                       "PostgreSQL did not commit: " + std::string(*tag ? tag : "") + " " +
                           connectionError(connection_.get()));
    }
}

void PostgresConnection::rollback() {
    inTransaction_ = false;
    if (connection_ && PQstatus(connection_.get()) == CONNECTION_OK) run("ROLLBACK", {});
}

}  // namespace slipway
