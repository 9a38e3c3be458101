// Runs one stored procedure per call, with retries, on a pooled connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "connection_pool.hpp"
#include "retry_policy.hpp"

namespace qtopology::detail {

using SqlValue = std::variant<std::monostate, std::string, std::int64_t, double>;

// The rows a procedure returned, as text, detached from the connection.
// Callers resolve a column's position once, then read cells by position: the
// leader reads results of thousands of rows.
class ResultTable {
 public:
  using Column = std::size_t;

  // Throws SchemaError when the procedure returned no such column.
  Column column(std::string_view name) const;
  const std::string& columnName(Column column) const { return columns_[column]; }
  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }

  // Moves the cell out: read each text cell once.
  std::optional<std::string> take(std::size_t row, Column column) {
    return std::move(rows_[row][column]);
  }
  std::string takeText(std::size_t row, Column column) {  // NULL reads as ""
    return take(row, column).value_or(std::string());
  }
  std::string_view view(std::size_t row, Column column) const;  // NULL reads as ""
  // Numbers throw StorageError naming the column when a cell holds anything
  // else: a silent 0 would pass a broken procedure off as data.
  double number(std::size_t row, Column column) const;  // NULL reads as 0
  std::optional<int> optInt(std::size_t row, Column column) const;
  TimePoint time(std::size_t row, Column column) const;  // from a UNIX_TIMESTAMP column

  // Filled by the runner.
  void addColumn(std::string name) { columns_.push_back(std::move(name)); }
  std::vector<std::optional<std::string>>& addRow() { return rows_.emplace_back(); }
  void reserve(std::size_t rows) { rows_.reserve(rows); }
  bool hasColumns() const { return !columns_.empty(); }

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::optional<std::string>>> rows_;
};

class ProcedureRunner {
 public:
  ProcedureRunner(ConnectionPool& pool, const MySqlOptions& options);

  // CALL qtopology_sp_<procedure>(args...). `operation` names the API call and
  // its subject for error messages and logs, e.g. "assignTopology(uuid=t1)".
  // Returns the first result set (empty when the procedure returns none).
  // A failed try leaves no session behind inside a transaction: it is rolled
  // back, or closed when that fails or the session broke.
  ResultTable call(std::string_view procedure, const std::vector<SqlValue>& args,
                   const std::string& operation);

 private:
  ResultTable tryOnce(const std::string& text, const std::vector<SqlValue>& args);

  ConnectionPool& pool_;
  const MySqlOptions& options_;
  RetryPolicy policy_;
};

}  // namespace qtopology::detail
