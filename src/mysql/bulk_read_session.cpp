#include "bulk_read_session.hpp"

#include <mysql.h>

#include <string>
#include <string_view>

#include "auth_guard.hpp"
#include "server_errors.hpp"
#include "session_options.hpp"

namespace qtopology::detail {

struct BulkReadSession::Handle {
  MYSQL* mysql = nullptr;
  ~Handle() {
    if (mysql) mysql_close(mysql);
  }
};

namespace {

// Frees a result set however the reading of it ends.
struct ResultGuard {
  MYSQL_RES* result;
  ~ResultGuard() {
    if (result) mysql_free_result(result);
  }
};

}  // namespace

BulkReadSession::BulkReadSession(const MySqlOptions& options,
                                 const MySqlOptions::Endpoint* endpoint, bool causal_sync)
    : handle_(std::make_unique<Handle>()) {
  handle_->mysql = mysql_init(nullptr);
  if (!handle_->mysql) {
    throw ServerFailure(2008, "HY001", "mysql_init: out of memory", true);
  }
  MYSQL* mysql = handle_->mysql;
  configureNativeSession(mysql, options, options.read_timeout);
  const char* host = endpoint ? endpoint->host.c_str() : "localhost";
  const unsigned int port = endpoint ? endpoint->port : 0;
  const char* socket = endpoint ? nullptr : options.unix_socket.c_str();
  const std::string where = serverName(endpoint, options);
  AuthPolicyScope scope(options, where);
  // CLIENT_MULTI_RESULTS: a CALL answers with its result sets and a status.
  if (!mysql_real_connect(mysql, host, options.user.c_str(), options.password.c_str(),
                          options.database.empty() ? nullptr : options.database.c_str(), port,
                          socket, CLIENT_MULTI_RESULTS)) {
    fail(true);
  }
  // The client's own view of its transport: libmariadb falls back to
  // plaintext when the server offers no TLS unless it checks the host name.
  if (tlsDemand(options).mandatory && !mysql_get_ssl_cipher(mysql)) {
    broken_ = true;
    throw plaintextRefusal(where, options);
  }
  if (mysql_real_query(mysql, kSessionSetup.data(), kSessionSetup.size()) != 0) fail(true);
  // The procedures read with plain SELECTs, which this variable does make
  // wait for the cluster (see prepareGaleraSession in connection_pool.cpp).
  constexpr std::string_view kCausalReads = "SET SESSION wsrep_sync_wait = 1";
  if (causal_sync && mysql_real_query(mysql, kCausalReads.data(), kCausalReads.size()) != 0) {
    fail(true);
  }
}

BulkReadSession::~BulkReadSession() = default;

void BulkReadSession::fail(bool connecting) {
  broken_ = true;
  MYSQL* mysql = handle_->mysql;
  throw ServerFailure(static_cast<int>(mysql_errno(mysql)), mysql_sqlstate(mysql),
                      mysql_error(mysql), connecting);
}

bool BulkReadSession::rollBack() noexcept {
  constexpr std::string_view kRollBack = "ROLLBACK";
  return mysql_real_query(handle_->mysql, kRollBack.data(), kRollBack.size()) == 0;
}

namespace {

class TableSink final : public RowSink {
 public:
  explicit TableSink(ResultTable& table) : table_(table) {}

  void start(const std::vector<std::string>& columns) override {
    table_ = ResultTable();
    for (const auto& name : columns) table_.addColumn(name);
  }

  void row(const std::vector<std::string_view>& cells) override {
    for (const auto& cell : cells) {
      if (cell.data()) {
        table_.addCell(cell);
      } else {
        table_.addNull();
      }
    }
  }

 private:
  ResultTable& table_;
};

}  // namespace

ResultTable BulkReadSession::query(const std::string& text) {
  ResultTable table;
  TableSink sink(table);
  query(text, sink);
  return table;
}

void BulkReadSession::query(const std::string& text, RowSink& sink) {
  MYSQL* mysql = handle_->mysql;
  if (mysql_real_query(mysql, text.data(), text.size()) != 0) fail();
  bool started = false;
  std::vector<std::string> columns;
  std::vector<std::string_view> cells;
  for (;;) {
    ResultGuard guard{mysql_use_result(mysql)};
    if (guard.result) {
      const unsigned int count = mysql_num_fields(guard.result);
      const bool wanted = !started && count > 0;
      if (wanted) {
        const MYSQL_FIELD* fields = mysql_fetch_fields(guard.result);
        for (unsigned int c = 0; c < count; ++c) {
          columns.emplace_back(fields[c].name, fields[c].name_length);
        }
        sink.start(columns);
        started = true;
        cells.resize(count);
      }
      while (MYSQL_ROW row = mysql_fetch_row(guard.result)) {
        if (!wanted) continue;
        const unsigned long* lengths = mysql_fetch_lengths(guard.result);
        for (unsigned int c = 0; c < count; ++c) {
          cells[c] = row[c] ? std::string_view(row[c], lengths[c]) : std::string_view();
        }
        sink.row(cells);
      }
      // mysql_fetch_row ends a result with NULL also when the connection broke.
      if (mysql_errno(mysql) != 0) fail();
    } else if (mysql_field_count(mysql) != 0) {
      fail();  // there was a result set, but it could not be read
    }
    const int next = mysql_next_result(mysql);
    if (next < 0) break;
    if (next > 0) fail();
  }
  if (!started) sink.start({});
}

}  // namespace qtopology::detail
