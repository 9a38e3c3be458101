#include "raw_client.hpp"

#include <cstring>
#include <stdexcept>

namespace bench {
namespace {
// Big enough for every column the measured calls return but message content
// and config, which are fetched truncated: the bytes still cross the wire.
constexpr std::size_t kColumnBytes = 256;
}  // namespace

RawClient::RawClient(const ServerAddress& address, const std::string& database) {
  mysql_ = mysql_init(nullptr);
  if (!mysql_) throw std::runtime_error("mysql_init failed");
  mysql_options(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!mysql_real_connect(mysql_, address.host.c_str(), address.user.c_str(),
                          address.password.c_str(), database.empty() ? nullptr : database.c_str(),
                          address.port, nullptr, CLIENT_MULTI_RESULTS | CLIENT_MULTI_STATEMENTS)) {
    fail("connect");
  }
}

RawClient::~RawClient() {
  for (auto& entry : statements_) mysql_stmt_close(entry.second);
  mysql_close(mysql_);
}

void RawClient::fail(const std::string& what, MYSQL_STMT* statement) {
  const std::string message = statement ? mysql_stmt_error(statement) : mysql_error(mysql_);
  throw std::runtime_error("raw client: " + what + ": " + message);
}

MYSQL_STMT* RawClient::prepared(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  MYSQL_STMT* statement = mysql_stmt_init(mysql_);
  if (!statement) fail("mysql_stmt_init");
  if (mysql_stmt_prepare(statement, sql.data(), sql.size()) != 0) {
    const std::string message = mysql_stmt_error(statement);
    mysql_stmt_close(statement);
    throw std::runtime_error("raw client: prepare " + sql + ": " + message);
  }
  statements_.emplace(sql, statement);
  return statement;
}

std::size_t RawClient::call(const std::string& sql, const std::vector<RawValue>& args) {
  MYSQL_STMT* statement = prepared(sql);
  params_.assign(args.size(), MYSQL_BIND{});
  param_lengths_.assign(args.size(), 0);
  for (std::size_t i = 0; i < args.size(); ++i) {
    MYSQL_BIND& b = params_[i];
    const RawValue& arg = args[i];
    if (std::holds_alternative<std::monostate>(arg)) {
      b.buffer_type = MYSQL_TYPE_NULL;
    } else if (const auto* s = std::get_if<std::string>(&arg)) {
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = const_cast<char*>(s->data());
      b.buffer_length = s->size();
      param_lengths_[i] = s->size();
      b.length = &param_lengths_[i];
    } else if (const auto* n = std::get_if<long long>(&arg)) {
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = const_cast<long long*>(n);
    } else {
      b.buffer_type = MYSQL_TYPE_DOUBLE;
      b.buffer = const_cast<double*>(&std::get<double>(arg));
    }
  }
  if (!args.empty() && mysql_stmt_bind_param(statement, params_.data()) != 0) {
    fail("bind " + sql, statement);
  }
  if (mysql_stmt_execute(statement) != 0) fail("execute " + sql, statement);

  std::size_t rows = 0;
  for (;;) {
    const unsigned int fields = mysql_stmt_field_count(statement);
    if (fields > 0) {
      results_.assign(fields, MYSQL_BIND{});
      result_buffer_.resize(fields * kColumnBytes);
      result_lengths_.assign(fields, 0);
      result_nulls_.assign(fields, 0);
      result_errors_.assign(fields, 0);
      for (unsigned int c = 0; c < fields; ++c) {
        MYSQL_BIND& b = results_[c];
        b.buffer_type = MYSQL_TYPE_STRING;  // text, as the library reads every column
        b.buffer = result_buffer_.data() + c * kColumnBytes;
        b.buffer_length = kColumnBytes;
        b.length = &result_lengths_[c];
        b.is_null = &result_nulls_[c];
        b.error = &result_errors_[c];
      }
      if (mysql_stmt_bind_result(statement, results_.data()) != 0) fail("bind result", statement);
      int rc = 0;
      while ((rc = mysql_stmt_fetch(statement)) == 0 || rc == MYSQL_DATA_TRUNCATED) ++rows;
      if (rc == 1) fail("fetch " + sql, statement);
    }
    const int next = mysql_stmt_next_result(statement);
    if (next == -1) break;
    if (next > 0) fail("next result " + sql, statement);
  }
  return rows;
}

void RawClient::query(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) fail(sql.substr(0, 200));
  for (;;) {
    MYSQL_RES* result = mysql_store_result(mysql_);
    if (result) mysql_free_result(result);
    const int next = mysql_next_result(mysql_);
    if (next == -1) break;
    if (next > 0) fail(sql.substr(0, 200));
  }
}

std::string RawClient::scalar(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) fail(sql);
  MYSQL_RES* result = mysql_store_result(mysql_);
  std::string out;
  if (result) {
    MYSQL_ROW row = mysql_fetch_row(result);
    if (row && row[0]) out = row[0];
    mysql_free_result(result);
  }
  while (mysql_next_result(mysql_) == 0) {
    if (MYSQL_RES* more = mysql_store_result(mysql_)) mysql_free_result(more);
  }
  return out;
}

}  // namespace bench
