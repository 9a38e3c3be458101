// Runs one stored procedure per call, with retries, on a pooled connection.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/logger.hpp>

#include "connection_pool.hpp"
#include "retry_policy.hpp"

namespace qtopology::detail {

// A text parameter that logs show as `label` unless the logger keeps trace
// lines: a claim or message key, or a text that holds them.
struct TraceOnly {
  std::string text;
  const char* label;  // e.g. "claim key"
};

using SqlValue = std::variant<std::monostate, std::string, std::int64_t, double, TraceOnly>;

// A result's cells are text, a NULL cell a view whose data() is nullptr.
// Numbers throw StorageError naming the column when a cell holds anything
// else: a silent 0 would pass a broken procedure off as data.
double numberCell(std::string_view cell, const std::string& column);  // NULL reads as 0
std::optional<int> optIntCell(std::string_view cell, const std::string& column);
// from a UNIX_TIMESTAMP column; NULL reads as the epoch
TimePoint timeCell(std::string_view cell, const std::string& column);
inline std::optional<std::string> optTextCell(std::string_view cell) {
  if (!cell.data()) return std::nullopt;
  return std::string(cell);
}
// The position of a column; throws SchemaError when there is none.
std::size_t columnIndex(const std::vector<std::string>& columns, std::string_view name);

// Receives the first result set of a call row by row, as the server sends
// it: for reads of thousands of rows, which a ResultTable would copy first.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // The columns. Called again when a retry starts the read over: drop the
  // rows received so far.
  virtual void start(const std::vector<std::string>& columns) = 0;
  // One row's cells in column order, valid during the call; a NULL cell is a
  // view whose data() is nullptr.
  virtual void row(const std::vector<std::string_view>& cells) = 0;
};

// The rows a procedure returned, as text, detached from the connection.
// Callers resolve a column's position once, then read cells by position: the
// leader reads results of thousands of rows. Every cell's bytes sit in one
// buffer: a table of 10,000 rows is a few allocations, not one per row and
// cell, which the allocator handed back to the kernel after every call and
// took again page by page (1,400 page faults a call, a third of the
// client's time).
class ResultTable {
 public:
  using Column = std::size_t;

  // Throws SchemaError when the procedure returned no such column.
  Column column(std::string_view name) const;
  const std::string& columnName(Column column) const { return columns_[column]; }
  std::size_t size() const { return columns_.empty() ? 0 : cells_.size() / columns_.size(); }
  bool empty() const { return cells_.empty(); }

  const std::vector<std::string>& columns() const { return columns_; }
  // A copy of the cell, nullopt for NULL.
  std::optional<std::string> take(std::size_t row, Column column) const {
    return optTextCell(view(row, column));
  }
  std::string takeText(std::size_t row, Column column) const {  // NULL reads as ""
    return std::string(view(row, column));
  }
  // NULL reads as "" (a view whose data() is nullptr)
  std::string_view view(std::size_t row, Column column) const;
  // As numberCell(), optIntCell() and timeCell() read them.
  double number(std::size_t row, Column column) const {
    return numberCell(view(row, column), columns_[column]);
  }
  std::optional<int> optInt(std::size_t row, Column column) const {
    return optIntCell(view(row, column), columns_[column]);
  }
  TimePoint time(std::size_t row, Column column) const {
    return timeCell(view(row, column), columns_[column]);
  }

  // Filled by the runner: the columns, then each row's cells in column order.
  void addColumn(std::string name) { columns_.push_back(std::move(name)); }
  // Throws StorageError past 4 GiB of text.
  void addCell(std::string_view text);
  void addNull() { cells_.push_back({0, kNull}); }
  void reserve(std::size_t rows) { cells_.reserve(rows * columns_.size()); }
  bool hasColumns() const { return !columns_.empty(); }

 private:
  struct Cell {
    std::uint32_t offset;  // into text_
    std::uint32_t length;  // kNull for NULL
    bool null() const { return length == kNull; }
  };
  static constexpr std::uint32_t kNull = UINT32_MAX;
  const Cell& cell(std::size_t row, Column column) const {
    return cells_[row * columns_.size() + column];
  }

  std::vector<std::string> columns_;
  std::string text_;
  std::vector<Cell> cells_;  // row after row
};

class ProcedureRunner {
 public:
  ProcedureRunner(ConnectionPool& pool, const MySqlOptions& options);

  // CALL qtopology_sp_<procedure>(args...) on the slot's Connector/C++
  // session. `operation` names the API call and its subject for error
  // messages and logs, e.g. "assignTopology(uuid=t1)". Returns the first
  // result set (empty when the procedure returns none). A failed try leaves
  // no session behind inside a transaction: it is rolled back, or closed when
  // that fails or the session broke. The CALL is logged at `level`: debug,
  // or trace for the calls a worker repeats every tick or every few (its
  // heartbeat, ping, claims and campaign, the leader's refresh), which
  // would be most of a debug log.
  ResultTable call(std::string_view procedure, const std::vector<SqlValue>& args,
                   const std::string& operation, LogLevel level = LogLevel::debug);

  // The reads: procedures that take no parameter and change nothing run on
  // the slot's libmariadb session (bulk_read_session.hpp), whose rows cost a
  // fraction of Connector/C++'s. Retried like call(); logged at trace (a
  // leader reads every loop). Never for a procedure that writes: its result
  // and its retry would not be those of call().
  ResultTable read(std::string_view procedure, const std::string& operation);
  // The same, the rows handed to `sink` as they arrive.
  void read(std::string_view procedure, RowSink& sink, const std::string& operation);

 private:
  // One try on a leased session; a retry runs it again from the start.
  using Attempt = std::function<void(ConnectionPool::Lease&)>;
  void withRetries(std::string_view procedure, const std::vector<SqlValue>& args,
                   const std::string& operation, LogLevel level, const Attempt& attempt);
  void tryOnce(const Attempt& attempt);

  ConnectionPool& pool_;
  const MySqlOptions& options_;
  RetryPolicy policy_;
};

}  // namespace qtopology::detail
