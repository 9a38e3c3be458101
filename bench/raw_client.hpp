// The floor: MariaDB Connector/C prepared statements, nothing on top.
#pragma once

#include <mysql.h>

#include <cstddef>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace bench {

using RawValue = std::variant<std::monostate, std::string, long long, double>;

struct ServerAddress {
  std::string host;
  unsigned port = 3306;
  std::string user;
  std::string password;
};

class RawClient {
 public:
  RawClient(const ServerAddress& address, const std::string& database);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // One prepared CALL (prepared once per session, like the library does),
  // every result fetched into bound buffers. Returns the rows read.
  std::size_t call(const std::string& sql, const std::vector<RawValue>& args);
  // A plain text statement (several allowed), results discarded.
  void query(const std::string& sql);
  // The first column of the first row of a text query.
  std::string scalar(const std::string& sql);

 private:
  MYSQL_STMT* prepared(const std::string& sql);
  [[noreturn]] void fail(const std::string& what, MYSQL_STMT* statement = nullptr);

  MYSQL* mysql_ = nullptr;
  std::map<std::string, MYSQL_STMT*> statements_;
  // reused between calls, as a tuned C client would
  std::vector<MYSQL_BIND> params_;
  std::vector<unsigned long> param_lengths_;
  std::vector<MYSQL_BIND> results_;
  std::vector<char> result_buffer_;
  std::vector<unsigned long> result_lengths_;
  std::vector<my_bool> result_nulls_;
  std::vector<my_bool> result_errors_;
};

}  // namespace bench
