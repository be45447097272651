#include "client/table.h"

#include <sstream>

#include <gtest/gtest.h>

namespace slipway::client {
namespace {

TEST(Table, PadsColumnsToTheirWidestCell) {
    Table table({"ID", "STATE"});
    table.add({"1", "succeeded"});
    table.add({"10", "failed"});
    std::ostringstream out;
    table.print(out);
    EXPECT_EQ(out.str(), "ID  STATE\n1   succeeded\n10  failed\n");
}

TEST(Table, CutsLongCellsAndFlattensNewlines) {
    Table table({"ERROR"}, 10);
    table.add({"line one\nline two is long"});
    std::ostringstream out;
    table.print(out);
    EXPECT_EQ(out.str(), "ERROR\nline on...\n");
}

}  // namespace
}  // namespace slipway::client
