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

namespace qtopology::detail {

using SqlValue = std::variant<std::monostate, std::string, std::int64_t, double>;

// The rows a procedure returned, as text, detached from the connection.
class ResultTable {
 public:
  class Row {
   public:
    Row(const ResultTable& table, std::size_t index) : table_(table), index_(index) {}
    std::optional<std::string> optText(std::string_view column) const;
    std::string text(std::string_view column) const;  // NULL reads as ""
    double number(std::string_view column) const;
    std::optional<int> optInt(std::string_view column) const;
    TimePoint time(std::string_view column) const;  // from a UNIX_TIMESTAMP column

   private:
    const ResultTable& table_;
    std::size_t index_;
  };

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  Row operator[](std::size_t i) const { return Row(*this, i); }

  std::vector<std::string> columns_;
  std::vector<std::vector<std::optional<std::string>>> rows_;

 private:
  std::size_t columnIndex(std::string_view column) const;
};

class ProcedureRunner {
 public:
  ProcedureRunner(ConnectionPool& pool, const MySqlOptions& options);

  // CALL qtopology_sp_<procedure>(args...). `operation` names the API call and
  // its subject for error messages and logs, e.g. "assignTopology(uuid=t1)".
  // Returns the first result set (empty when the procedure returns none).
  ResultTable call(std::string_view procedure, const std::vector<SqlValue>& args,
                   const std::string& operation);

 private:
  ConnectionPool& pool_;
  const MySqlOptions& options_;
};

}  // namespace qtopology::detail
