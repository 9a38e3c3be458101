// A MariaDB Connector/C (libmariadb) session for the reads: procedures that
// take no parameter and change nothing (ProcedureRunner::read), among them
// the reads of every worker and every topology, which the leader runs each
// loop.
//
// Connector/C++ 1.1 hands a result over cell by cell, each cell costing
// several checked calls and two copies; for 10,000 topologies that was 60% of
// the client's time (docs/performance.md). Here rows are read as the server
// sends them (mysql_use_result), so the client's work overlaps the server's;
// the big reads take them straight into records (RowSink), the others into a
// ResultTable.
#pragma once

#include <memory>
#include <string>

#include <qtopology/mysql_options.hpp>

#include "procedure_runner.hpp"

namespace qtopology::detail {

class BulkReadSession {
 public:
  // Connects as the pool's sessions do: same server (nullptr: the options'
  // unix socket), credentials, character set, sql_mode, TLS and timeouts. On a Galera
  // node (causal_sync), the session's reads first wait for every write the
  // cluster committed before them. Throws ServerFailure (while_connecting).
  BulkReadSession(const MySqlOptions& options, const MySqlOptions::Endpoint* endpoint,
                  bool causal_sync);
  ~BulkReadSession();
  BulkReadSession(const BulkReadSession&) = delete;
  BulkReadSession& operator=(const BulkReadSession&) = delete;

  // Runs the statement (a parameterless CALL) and returns its first result
  // set; every further result is read and dropped, so the session is ready
  // for the next call. Failures throw ServerFailure, classified from
  // libmariadb's error code and SQLSTATE; the session is then broken().
  ResultTable query(const std::string& text);
  // The same, handing the first result set's rows to `sink` as they arrive.
  void query(const std::string& text, RowSink& sink);

  // A failure left the session in an unknown state: open a new one.
  bool broken() const { return broken_; }

  // Ends whatever transaction a failed call left open, and waits for the
  // server's answer, so that its locks are released before the next call.
  // False when the session could not even do that.
  bool rollBack() noexcept;

 private:
  // Throws libmariadb's last error; `connecting`: the session never ran a call.
  [[noreturn]] void fail(bool connecting = false);

  struct Handle;
  std::unique_ptr<Handle> handle_;
  bool broken_ = false;
};

}  // namespace qtopology::detail
