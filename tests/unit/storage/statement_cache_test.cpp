#include "storage/statement_cache.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

class StatementCacheTest : public ::testing::Test {
protected:
    StatementCacheTest() { db_.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)"); }

    SQLite::Database db_{":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE};
    StatementCache cache_{db_};
};

TEST_F(StatementCacheTest, PreparesEachSqlOnce) {
    SQLite::Statement* first = nullptr;
    {
        const StatementCache::Use use = cache_.use("SELECT x FROM t");
        first = &*use;
    }
    const StatementCache::Use again = cache_.use("SELECT x FROM t");
    EXPECT_EQ(&*again, first);
    const StatementCache::Use other = cache_.use("SELECT count(*) FROM t");
    EXPECT_NE(&*other, first);
}

TEST_F(StatementCacheTest, AUseEndsWithItsCursorAndBindingsReset) {
    {
        const StatementCache::Use use = cache_.use("SELECT x FROM t WHERE x >= ? ORDER BY x");
        use->bind(1, 2);
        ASSERT_TRUE(use->executeStep());
        EXPECT_EQ(use->getColumn(0).getInt(), 2);  // left half read
    }
    // Left half read, it would keep its read transaction open.
    const StatementCache::Use use = cache_.use("SELECT x FROM t WHERE x >= ? ORDER BY x");
    EXPECT_FALSE(use->executeStep()) << "the binding was cleared: x >= NULL matches nothing";
}

TEST_F(StatementCacheTest, AStatementThatThrewIsResetForItsNextUse) {
    db_.exec("CREATE TABLE u (id INTEGER PRIMARY KEY)");
    const std::string insert = "INSERT INTO u (id) VALUES (?)";
    {
        const StatementCache::Use use = cache_.use(insert);
        use->bind(1, 1);
        use->exec();
    }
    EXPECT_THROW(
        {
            const StatementCache::Use use = cache_.use(insert);
            use->bind(1, 1);
            use->exec();
        },
        SQLite::Exception);
    const StatementCache::Use use = cache_.use(insert);
    use->bind(1, 2);
    EXPECT_EQ(use->exec(), 1);
}

}  // namespace
}  // namespace slipway
