// The one place where server and client error codes become our exceptions.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sql {
class SQLException;
}

namespace qtopology::detail {

enum class ErrorClass {
  connection_lost,   // transport broke or server unreachable: drop the connection, retry
  transient,         // rolled back by the server (deadlock, lock wait, node not ready): retry
  not_found,         // our procedures' SIGNAL 45404
  invalid_argument,  // our procedures' SIGNAL 45400, or data the server refused
  fatal,             // anything else: fail at once
};

ErrorClass classifyServerError(int code, std::string_view sqlstate);

// True when the connection that produced the error must not be reused.
inline bool poisonsConnection(ErrorClass c) { return c == ErrorClass::connection_lost; }

inline bool isRetriable(ErrorClass c) {
  return c == ErrorClass::connection_lost || c == ErrorClass::transient;
}

// Builds the exception a caller sees: ConnectionError, NotFoundError,
// InvalidArgument or StorageError, carrying code and sqlstate. `operation`
// names the call and its subject, e.g. "assignTopology(uuid=t1)".
std::exception_ptr makeStorageError(ErrorClass c, std::string_view operation, int code,
                                    std::string_view sqlstate, std::string_view message);

// An error the server or the client library reported, classified once. The
// library's SQL paths pass it on (and retry on it) until they turn it into the
// caller's exception.
class ServerFailure : public std::runtime_error {
 public:
  // Classified from the code and the sqlstate.
  ServerFailure(int error_code, std::string error_sqlstate, const std::string& message,
                bool connecting = false)
      : std::runtime_error(message),
        kind(classifyServerError(error_code, error_sqlstate)),
        code(error_code),
        sqlstate(std::move(error_sqlstate)),
        while_connecting(connecting) {}

  static ServerFailure from(const sql::SQLException& e);
  // Opening a session failed: no call ran. Retried by the code's class (a
  // refused connection is, a wrong password is not), but reported to the
  // caller as a ConnectionError whatever the code.
  static ServerFailure whileConnecting(const sql::SQLException& e);

  bool retriable() const { return isRetriable(kind); }
  std::exception_ptr toStorageError(std::string_view operation) const {
    return makeStorageError(while_connecting ? ErrorClass::connection_lost : kind, operation, code,
                            sqlstate, what());
  }

  ErrorClass kind;
  int code;
  std::string sqlstate;
  bool while_connecting;
};

}  // namespace qtopology::detail
