#include "storage/postgres_connection.h"

#include <gtest/gtest.h>

#include "storage/database.h"
#include "tests/support/postgres_server.h"

namespace slipway {
namespace {

TEST(PostgresPlaceholders, NumbersEachQuestionMarkOutsideALiteral) {
    EXPECT_EQ(numberPlaceholders("SELECT ? WHERE a = ? AND b = 'why?' AND c = 'it''s ?' AND d = ?"),
              "SELECT $1 WHERE a = $2 AND b = 'why?' AND c = 'it''s ?' AND d = $3");
    EXPECT_EQ(numberPlaceholders("SELECT 1"), "SELECT 1");
}

TEST(PostgresFailures, ClassifiesSqlStatesIntoWhatTheCallerCanDo) {
    EXPECT_EQ(classifySqlState("08006", false), SqlFailure::Unavailable);  // connection failure
    EXPECT_EQ(classifySqlState("57P01", false), SqlFailure::Unavailable);  // admin shutdown
    EXPECT_EQ(classifySqlState("57P03", false), SqlFailure::Unavailable);  // cannot connect now
    EXPECT_EQ(classifySqlState("57P05", false), SqlFailure::Unavailable);  // idle session timeout
    EXPECT_EQ(classifySqlState("25P03", false), SqlFailure::Unavailable);  // idle in transaction
    EXPECT_EQ(classifySqlState("55P03", false), SqlFailure::Busy);         // lock_timeout
    EXPECT_EQ(classifySqlState("", true), SqlFailure::Unavailable);
    EXPECT_EQ(classifySqlState("40001", false), SqlFailure::Retry);  // serialization failure
    EXPECT_EQ(classifySqlState("40P01", false), SqlFailure::Retry);  // deadlock
    EXPECT_EQ(classifySqlState("23505", false), SqlFailure::Other);  // unique violation
    EXPECT_EQ(classifySqlState("42601", false), SqlFailure::Other);  // syntax error
}

TEST(PostgresText, KeepsUtf8AndReplacesWhatIsNot) {
    EXPECT_TRUE(validUtf8("plain, é, 日本, 🚢"));
    EXPECT_FALSE(validUtf8(std::string("nul\0byte", 8)));
    EXPECT_FALSE(validUtf8("cut \xe6\x97"));        // a build's output cut mid-character
    EXPECT_FALSE(validUtf8("\xc0\xaf"));            // overlong '/'
    EXPECT_FALSE(validUtf8("\xed\xa0\x80"));        // a UTF-16 surrogate
    EXPECT_EQ(asUtf8("plain, é"), "plain, é");
    EXPECT_EQ(asUtf8("cut \xe6\x97"), "cut \xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(asUtf8(std::string("a\0b\xff", 4)), "a\xef\xbf\xbd" "b\xef\xbf\xbd");
}

class PostgresConnectionTest : public ::testing::Test {
protected:
    testing::TestDatabase database_;
    PostgresConnection connection_{database_.conninfo(), ""};
};

TEST_F(PostgresConnectionTest, MigratesTheSchemaToTheVersionSqliteHas) {
    EXPECT_EQ(postgresMigrations().size(), static_cast<std::size_t>(schemaVersion()));
    EXPECT_EQ(columnInteger(connection_.run("SELECT version FROM schema_version", {}).rows.at(0), 0), schemaVersion());
    // A second node opening the same database migrates nothing again.
    PostgresConnection again(database_.conninfo(), "");
    EXPECT_EQ(columnInteger(again.run("SELECT count(*) FROM schema_version", {}).rows.at(0), 0), 1);
}

// The limits that keep a frozen node from holding the others up, after the
// operator's own options (here one of them) and whatever the string says.
TEST(PostgresSession, CarriesTheNodesLimitsBesideTheOperatorsOptions) {
    testing::TestDatabase database;
    PostgresConnection connection(database.conninfo() + " options='-c statement_timeout=123s'", "");
    auto show = [&](const std::string& name) { return columnText(connection.run("SHOW " + name, {}).rows.at(0), 0); };
    EXPECT_EQ(show("lock_timeout"), "10s");
    EXPECT_EQ(show("idle_in_transaction_session_timeout"), "30s");
    EXPECT_EQ(show("statement_timeout"), "123s");
    EXPECT_EQ(show("bytea_output"), "hex");
    EXPECT_EQ(show("client_encoding"), "UTF8");
}

TEST_F(PostgresConnectionTest, RefusesADatabaseOfANewerSchema) {
    connection_.run("UPDATE schema_version SET version = version + 1", {});
    try {
        PostgresConnection newer(database_.conninfo(), "");
        FAIL() << "opened a database of a newer schema";
    } catch (const SqlError& e) {
        EXPECT_EQ(e.failure(), SqlFailure::Other);
        EXPECT_NE(std::string(e.what()).find("newer than this slipway understands"), std::string::npos) << e.what();
    }
}

TEST_F(PostgresConnectionTest, BindsTypedValuesAndReadsThemBack) {
    const SqlResult result = connection_.run("SELECT ?::bigint, ?::text, ?::text IS NULL, ?::bytea",
                                             {std::int64_t{-42}, std::string("héllo"), nullptr,
                                              SqlBlob{std::string("\0\xff", 2)}});
    ASSERT_EQ(result.rows.size(), 1u);
    EXPECT_EQ(columnInteger(result.rows[0], 0), -42);
    EXPECT_EQ(columnText(result.rows[0], 1), "héllo");
    EXPECT_EQ(columnText(result.rows[0], 2), "t");
    EXPECT_EQ(columnText(result.rows[0], 3), std::string("\0\xff", 2));
}

// SQLite keeps any byte in text; PostgreSQL refuses what is not UTF-8, which
// would leave a build whose error quotes cut output unrecorded.
TEST_F(PostgresConnectionTest, TextThatIsNotUtf8IsStoredWithReplacementCharacters) {
    const SqlResult result = connection_.run("SELECT ?::text", {std::string("step failed: \xe6\x97")});
    EXPECT_EQ(columnText(result.rows.at(0), 0), "step failed: \xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(PostgresConnectionTest, ACommitOfATransactionAStatementFailedInIsAnError) {
    connection_.begin(false);
    EXPECT_THROW(connection_.run("SELECT no_such_column FROM instance", {}), SqlError);
    try {
        connection_.commit();
        FAIL() << "PostgreSQL's ROLLBACK answer to COMMIT was taken for a commit";
    } catch (const SqlError& e) {
        EXPECT_NE(std::string(e.what()).find("did not commit"), std::string::npos) << e.what();
    }
    EXPECT_EQ(columnInteger(connection_.run("SELECT 1", {}).rows.at(0), 0), 1) << "usable again";
}

TEST_F(PostgresConnectionTest, ASyntaxErrorIsNotAnOutage) {
    try {
        connection_.run("SELEKT 1", {});
        FAIL();
    } catch (const SqlError& e) {
        EXPECT_EQ(e.failure(), SqlFailure::Other);
    }
}

// A server of the test's own, stopped under the connection.
TEST(PostgresOutage, AConnectionLostInATransactionFailsItAndTheNextStatementReconnects) {
    testing::PostgresServer server;
    testing::runSql(server.conninfo() + " dbname=postgres", "CREATE DATABASE outage");
    PostgresConnection connection(server.conninfo() + " dbname=outage", "");
    connection.run("CREATE TABLE t (x INTEGER)", {});

    connection.begin(false);
    connection.run("INSERT INTO t VALUES (1)", {});
    server.kill();
    server.start();
    try {
        connection.run("INSERT INTO t VALUES (2)", {});
        FAIL() << "a statement ran on a connection the server had dropped";
    } catch (const SqlError& e) {
        EXPECT_EQ(e.failure(), SqlFailure::Unavailable) << e.what();
    }
    // Not on a new connection, outside the transaction it was part of.
    EXPECT_THROW(connection.run("INSERT INTO t VALUES (3)", {}), SqlError);
    EXPECT_THROW(connection.commit(), SqlError);
    connection.rollback();
    EXPECT_EQ(columnInteger(connection.run("SELECT count(*) FROM t", {}).rows.at(0), 0), 0);

    server.kill();
    try {
        connection.run("SELECT 1", {});
        FAIL();
    } catch (const SqlError& e) {
        EXPECT_EQ(e.failure(), SqlFailure::Unavailable) << e.what();
    }
    server.start();
    EXPECT_EQ(columnInteger(connection.run("SELECT 1", {}).rows.at(0), 0), 1);
}

}  // namespace
}  // namespace slipway
