// The one place where server and client error codes become our exceptions.
#pragma once

#include <exception>
#include <string>
#include <string_view>

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
// InvalidArgument or StorageError. `operation` names the call and its subject,
// e.g. "assignTopology(uuid=t1)".
std::exception_ptr makeStorageError(ErrorClass c, std::string_view operation, int code,
                                    std::string_view sqlstate, std::string_view message);

}  // namespace qtopology::detail
