#include <gtest/gtest.h>

#include <qtopology/coordination_storage.hpp>

#include "mysql/procedure_runner.hpp"

namespace {

using qtopology::SchemaError;
using qtopology::StorageError;
using qtopology::detail::ResultTable;

// One row: cells in the order of `columns`; nullopt is SQL NULL.
ResultTable oneRow(const std::vector<std::string>& columns,
                   const std::vector<std::optional<std::string>>& cells) {
  ResultTable table;
  for (const auto& c : columns) table.addColumn(c);
  for (const auto& cell : cells) {
    if (cell) {
      table.addCell(*cell);
    } else {
      table.addNull();
    }
  }
  return table;
}

TEST(ResultTable, FindsColumnsByNameAndRefusesUnknownOnes) {
  auto table = oneRow({"name", "pid"}, {"w1", "42"});
  EXPECT_EQ(table.column("pid"), 1u);
  EXPECT_EQ(table.columnName(0), "name");
  try {
    table.column("status");
    FAIL() << "an unknown column was found";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("'status'"), std::string::npos) << e.what();
  }
}

TEST(ResultTable, ReadsNumbersAndNullsAsDocumented) {
  auto table = oneRow({"pid", "weight", "none"}, {"42", "1.5", std::nullopt});
  EXPECT_EQ(table.optInt(0, 0), 42);
  EXPECT_DOUBLE_EQ(table.number(0, 1), 1.5);
  EXPECT_EQ(table.optInt(0, 2), std::nullopt);
  EXPECT_DOUBLE_EQ(table.number(0, 2), 0.0);
  EXPECT_EQ(table.view(0, 2), "");
  EXPECT_EQ(table.takeText(0, 2), "");
}

TEST(ResultTable, NonNumericCellIsAnErrorNamingTheColumnNotZero) {
  auto table = oneRow({"pid", "weight", "partly"}, {"abc", "", "12x"});
  for (ResultTable::Column c = 0; c < 3; ++c) {
    try {
      table.optInt(0, c);
      FAIL() << "column " << c << " read as a number";
    } catch (const StorageError& e) {
      EXPECT_NE(std::string(e.what()).find(table.columnName(c)), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(table.number(0, 0), StorageError);
  EXPECT_THROW(table.number(0, 2), StorageError);
}

TEST(ResultTable, IntegerOutOfRangeIsAnError) {
  auto table = oneRow({"pid"}, {"99999999999"});
  EXPECT_THROW(table.optInt(0, 0), StorageError);
}

TEST(ResultTable, TimeComesFromUnixSeconds) {
  auto table = oneRow({"ts_unix"}, {"1700000000.5"});
  const auto since_epoch = table.time(0, 0).time_since_epoch();
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count(),
            1700000000500);
}

TEST(ResultTable, TakeCopiesTheCellAndKeepsNullApart) {
  auto table = oneRow({"config", "error"}, {"{\"a\":1}", std::nullopt});
  EXPECT_EQ(table.take(0, 0), std::optional<std::string>("{\"a\":1}"));
  EXPECT_EQ(table.take(0, 0), std::optional<std::string>("{\"a\":1}"));  // cells share a buffer
  EXPECT_EQ(table.take(0, 1), std::nullopt);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_FALSE(table.empty());
}

}  // namespace
