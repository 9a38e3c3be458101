#include "procedure_runner.hpp"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <charconv>
#include <random>
#include <thread>

#include "bulk_read_session.hpp"
#include "logging.hpp"
#include "server_errors.hpp"

namespace qtopology::detail {
namespace {

std::string callText(std::string_view procedure, std::size_t arg_count) {
  std::string text = "CALL qtopology_sp_";
  text += procedure;
  text += '(';
  for (std::size_t i = 0; i < arg_count; ++i) text += i == 0 ? "?" : ", ?";
  text += ')';
  return text;
}

// Arguments as they appear in debug logs: long texts (configs) are cut.
std::string describeArgs(const std::vector<SqlValue>& args) {
  constexpr std::size_t kMaxShown = 120;
  std::string out;
  for (const auto& arg : args) {
    if (!out.empty()) out += ", ";
    if (std::holds_alternative<std::monostate>(arg)) {
      out += "NULL";
    } else if (const auto* s = std::get_if<std::string>(&arg)) {
      out += '\'';
      out.append(*s, 0, std::min(s->size(), kMaxShown));
      if (s->size() > kMaxShown) out += "...(" + std::to_string(s->size()) + " bytes)";
      out += '\'';
    } else if (const auto* i = std::get_if<std::int64_t>(&arg)) {
      out += std::to_string(*i);
    } else {
      out += std::to_string(std::get<double>(arg));
    }
  }
  return out;
}

void bind(sql::PreparedStatement& statement, const std::vector<SqlValue>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto index = static_cast<unsigned int>(i + 1);
    const SqlValue& arg = args[i];
    if (std::holds_alternative<std::monostate>(arg)) {
      statement.setNull(index, sql::DataType::VARCHAR);
    } else if (const auto* s = std::get_if<std::string>(&arg)) {
      statement.setString(index, sql::SQLString(s->data(), s->size()));
    } else if (const auto* n = std::get_if<std::int64_t>(&arg)) {
      statement.setInt64(index, *n);
    } else {
      statement.setDouble(index, std::get<double>(arg));
    }
  }
}

void readInto(sql::ResultSet& rs, ResultTable& table) {
  sql::ResultSetMetaData* meta = rs.getMetaData();
  const unsigned int count = meta->getColumnCount();
  for (unsigned int c = 1; c <= count; ++c) table.addColumn(meta->getColumnLabel(c));
  table.reserve(rs.rowsCount());
  while (rs.next()) {
    for (unsigned int c = 1; c <= count; ++c) {
      sql::SQLString value = rs.getString(c);  // one driver call per cell, then
      if (rs.wasNull()) {                      // ask how it was
        table.addNull();
      } else {
        table.addCell(value.asStdString());
      }
    }
  }
}

// Connector/C++ 1.1 fails with "commands out of sync" when a prepared CALL is
// run with execute(); executeQuery() and then draining every further result
// (the CALL's own status is one) leaves the session clean for the next call.
template <typename Statement>
ResultTable readAllResults(Statement& statement, std::unique_ptr<sql::ResultSet> rs) {
  ResultTable table;
  if (rs && rs->getMetaData()->getColumnCount() > 0) readInto(*rs, table);
  while (statement.getMoreResults()) {
    rs.reset(statement.getResultSet());
    if (rs && !table.hasColumns() && rs->getMetaData()->getColumnCount() > 0) {
      readInto(*rs, table);
    }
  }
  return table;
}

ResultTable execute(PooledConnection& connection, const std::string& text,
                    const std::vector<SqlValue>& args) {
  // Nothing to bind, so nothing is pasted into the text: these are the
  // leader's reads of many rows, which libmariadb reads at a fraction of
  // Connector/C++'s cost (bulk_read_session.hpp).
  if (args.empty()) return connection.bulk().query(text);
  sql::PreparedStatement& statement = connection.prepared(text);
  bind(statement, args);
  return readAllResults(statement, std::unique_ptr<sql::ResultSet>(statement.executeQuery()));
}

}  // namespace

std::chrono::milliseconds retryDelay(int attempt, std::chrono::milliseconds cap) {
  // Jitter keeps callers that deadlocked on each other from retrying in step.
  thread_local std::minstd_rand random(std::random_device{}());
  const long base = 50L << std::min(attempt, 10);
  const long jittered =
      base / 2 + static_cast<long>(random() % static_cast<unsigned>(base / 2 + 1));
  return std::min(std::chrono::milliseconds(jittered), cap);
}

ResultTable::Column ResultTable::column(std::string_view name) const {
  const auto it = std::find(columns_.begin(), columns_.end(), name);
  if (it == columns_.end()) {
    throw SchemaError("result has no column '" + std::string(name) +
                      "': the stored procedures do not match this library");
  }
  return static_cast<Column>(it - columns_.begin());
}

void ResultTable::addCell(std::string_view text) {
  if (text_.size() + text.size() >= kNull) {
    throw StorageError("a result of more than 4 GiB of text: not read");
  }
  cells_.push_back(
      {static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(text.size())});
  text_.append(text);
}

std::string_view ResultTable::view(std::size_t row, Column column) const {
  const Cell& c = cell(row, column);
  return c.null() ? std::string_view() : std::string_view(text_).substr(c.offset, c.length);
}

double ResultTable::number(std::size_t row, Column column) const {
  const auto text = view(row, column);
  double value = 0.0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::optional<int> ResultTable::optInt(std::size_t row, Column column) const {
  if (cell(row, column).null()) return std::nullopt;
  const auto text = view(row, column);
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

TimePoint ResultTable::time(std::size_t row, Column column) const {
  const std::chrono::duration<double> since_epoch(number(row, column));
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(since_epoch));
}

ProcedureRunner::ProcedureRunner(ConnectionPool& pool, const MySqlOptions& options)
    : pool_(pool), options_(options) {}

ResultTable ProcedureRunner::call(std::string_view procedure, const std::vector<SqlValue>& args,
                                  const std::string& operation) {
  auto& log = loggerOf(options_);
  const std::string text = callText(procedure, args.size());
  if (log.should_log(spdlog::level::debug)) {
    log.debug("qtopology: CALL qtopology_sp_{}({})", procedure, describeArgs(args));
  }
  for (int attempt = 0;; ++attempt) {
    ErrorClass error_class = ErrorClass::fatal;
    bool while_connecting = true;
    int code = 0;
    std::string sqlstate;
    std::string message;
    try {
      auto lease = pool_.acquire();
      while_connecting = false;
      try {
        return execute(*lease.operator->(), text, args);
      } catch (const sql::SQLException& e) {
        if (poisonsConnection(classifyServerError(e.getErrorCode(), e.getSQLState()))) {
          lease.discard();
        }
        throw;
      }
    } catch (const sql::SQLException& e) {
      code = e.getErrorCode();
      sqlstate = e.getSQLState();
      message = e.what();
      error_class = classifyServerError(code, sqlstate);
    }
    if (isRetriable(error_class) && attempt < options_.retries) {
      const auto wait = retryDelay(attempt, options_.retry_timeout);
      log.warn("qtopology: {} failed with server error {} ({}); retry {}/{} in {} ms", operation,
               code, message, attempt + 1, options_.retries, wait.count());
      std::this_thread::sleep_for(wait);
      continue;
    }
    if (while_connecting) error_class = ErrorClass::connection_lost;
    if (error_class == ErrorClass::connection_lost || error_class == ErrorClass::fatal) {
      log.error("qtopology: {} failed: server error {}: {}", operation, code, message);
    }
    std::rethrow_exception(makeStorageError(error_class, operation, code, sqlstate, message));
  }
}

}  // namespace qtopology::detail
