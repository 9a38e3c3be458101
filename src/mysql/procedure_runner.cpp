#include "procedure_runner.hpp"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <charconv>

#include "bulk_read_session.hpp"
#include "core/logging.hpp"
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

// Arguments as they appear in logs: long texts (configs) are cut; keys
// only when the logger keeps trace lines.
std::string describeArgs(const std::vector<SqlValue>& args, bool show_keys) {
  constexpr std::size_t kMaxShown = 120;
  // Enough for a leader's actions of a few dozen messages, keys included.
  constexpr std::size_t kMaxKeyedShown = 4000;
  std::string out;
  const auto text = [&](const std::string& s, std::size_t max) {
    out += '\'';
    out.append(s, 0, std::min(s.size(), max));
    if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
    out += '\'';
  };
  for (const auto& arg : args) {
    if (!out.empty()) out += ", ";
    if (std::holds_alternative<std::monostate>(arg)) {
      out += "NULL";
    } else if (const auto* s = std::get_if<std::string>(&arg)) {
      text(*s, kMaxShown);
    } else if (const auto* k = std::get_if<TraceOnly>(&arg)) {
      if (show_keys) {
        text(k->text, kMaxKeyedShown);
      } else {
        out += std::string("<") + k->label + ">";
      }
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
    } else if (const auto* k = std::get_if<TraceOnly>(&arg)) {
      statement.setString(index, sql::SQLString(k->text.data(), k->text.size()));
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
  sql::PreparedStatement& statement = connection.prepared(text);
  bind(statement, args);
  return readAllResults(statement, std::unique_ptr<sql::ResultSet>(statement.executeQuery()));
}

}  // namespace

std::size_t columnIndex(const std::vector<std::string>& columns, std::string_view name) {
  const auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) {
    throw SchemaError("result has no column '" + std::string(name) +
                      "': the stored procedures do not match this library");
  }
  return static_cast<std::size_t>(it - columns.begin());
}

ResultTable::Column ResultTable::column(std::string_view name) const {
  return columnIndex(columns_, name);
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

namespace {

template <typename Number>
Number parseCell(std::string_view text, const std::string& column) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw StorageError("result column '" + column + "' holds '" + std::string(text.substr(0, 40)) +
                       "', not a number");
  }
  return value;
}

}  // namespace

double numberCell(std::string_view cell, const std::string& column) {
  return cell.data() ? parseCell<double>(cell, column) : 0.0;
}

std::optional<int> optIntCell(std::string_view cell, const std::string& column) {
  if (!cell.data()) return std::nullopt;
  return parseCell<int>(cell, column);
}

TimePoint timeCell(std::string_view cell, const std::string& column) {
  const std::chrono::duration<double> since_epoch(numberCell(cell, column));
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(since_epoch));
}

ProcedureRunner::ProcedureRunner(ConnectionPool& pool, const MySqlOptions& options)
    : pool_(pool), options_(options), policy_(RetryPolicy::from(options)) {}

void ProcedureRunner::tryOnce(const Attempt& attempt) {
  auto lease = pool_.acquire();
  // A procedure's handler rolls back what it began, but not every failure
  // reaches a handler (a killed query does not): roll back here too. A server
  // that refused the lease's libmariadb session takes the lease with it.
  const auto settle = [&lease](const ServerFailure& failure) {
    if (poisonsConnection(failure.kind) || !lease->rollBack()) lease.discard();
  };
  try {
    attempt(lease);
  } catch (const ServerFailure& failure) {  // from the libmariadb session
    settle(failure);
    throw;
  } catch (const sql::SQLException& e) {
    auto failure = ServerFailure::from(e);
    settle(failure);
    throw failure;
  } catch (...) {
    lease.discard();  // failed half-way through reading: the session's state is unknown
    throw;
  }
}

ResultTable ProcedureRunner::call(std::string_view procedure, const std::vector<SqlValue>& args,
                                  const std::string& operation, LogLevel level) {
  const std::string text = callText(procedure, args.size());
  ResultTable table;
  withRetries(procedure, args, operation, level, [&](ConnectionPool::Lease& lease) {
    table = execute(*lease.operator->(), text, args);
  });
  return table;
}

ResultTable ProcedureRunner::read(std::string_view procedure, const std::string& operation) {
  // No parameter, so nothing is pasted into the text.
  const std::string text = callText(procedure, 0);
  ResultTable table;
  withRetries(procedure, {}, operation, LogLevel::trace,
              [&](ConnectionPool::Lease& lease) { table = lease->bulk().query(text); });
  return table;
}

void ProcedureRunner::read(std::string_view procedure, RowSink& sink,
                           const std::string& operation) {
  const std::string text = callText(procedure, 0);
  withRetries(procedure, {}, operation, LogLevel::trace,
              [&](ConnectionPool::Lease& lease) { lease->bulk().query(text, sink); });
}

void ProcedureRunner::withRetries(std::string_view procedure, const std::vector<SqlValue>& args,
                                  const std::string& operation, LogLevel level,
                                  const Attempt& attempt) {
  auto log = loggerOr(options_.logger);
  if (log.logger().enabled(level)) {
    const auto shown = describeArgs(args, log.logger().enabled(LogLevel::trace));
    if (level == LogLevel::trace) {
      log.trace("qtopology: CALL qtopology_sp_{}({})", procedure, shown);
    } else {
      log.debug("qtopology: CALL qtopology_sp_{}({})", procedure, shown);
    }
  }
  try {
    policy_.run<ServerFailure>(
        [&] { tryOnce(attempt); }, [](const ServerFailure& failure) { return failure.retriable(); },
        [&](const ServerFailure& failure, int retry, std::chrono::milliseconds wait) {
          log.warn("qtopology: {} failed with server error {} ({}); retry {}/{} in {} ms",
                   operation, failure.code, failure.what(), retry, policy_.retries(), wait.count());
        });
  } catch (const ServerFailure& failure) {
    if (failure.while_connecting || failure.kind == ErrorClass::connection_lost ||
        failure.kind == ErrorClass::fatal) {
      log.error("qtopology: {} failed: server error {}: {}", operation, failure.code,
                failure.what());
    }
    std::rethrow_exception(failure.toStorageError(operation));
  }
}

}  // namespace qtopology::detail
