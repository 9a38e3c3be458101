#include "server_errors.hpp"

#include <cppconn/exception.h>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::detail {

ErrorClass classifyServerError(int code, std::string_view sqlstate) {
  if (sqlstate == "45404") return ErrorClass::not_found;
  if (sqlstate == "45400") return ErrorClass::invalid_argument;
  switch (code) {
    case 2002:  // can't connect through socket
    case 2003:  // can't connect to host (refused while the server restarts)
    case 2006:  // server has gone away
    case 2013:  // lost connection during query
    case 2055:  // lost connection at some stage
    case 2014:  // commands out of sync: the connection's state is unknown
    case 1053:  // server shutdown in progress
    case 1927:  // MariaDB: connection was killed
    case 4031:  // MySQL 8: disconnected by the server for inactivity
    case 1040:  // too many connections
    // MySQL Group Replication refused to commit on this member ("Error on
    // observer while running replication hook 'before_commit'"): it is not
    // ONLINE, or lost the group's majority. The transaction was rolled back;
    // another member, or this one once it rejoined, takes it, so the session
    // and its server's idle ones are dropped and the retry starts at the next
    // server. (A transaction over group_replication_transaction_size_limit
    // fails the same way on every try, within `retries`.)
    case 3100:
      return ErrorClass::connection_lost;
    case 1213:  // deadlock (also a Galera certification failure): rolled back
    case 1205:  // lock wait timeout
    case 1047:  // Galera: node not ready ("WSREP has not yet prepared node")
    case 1180:  // Galera: commit failed during state transfer
    case 1290:  // read-only during a primary switch-over
    case 1317:  // query interrupted (KILL QUERY), nothing committed
    // MySQL Group Replication: the transaction lost certification against a
    // concurrent one on another member and was rolled back, as Galera's
    // certification failure (1213): retried on the same session.
    case 3101:
      return ErrorClass::transient;
    case 1062:  // duplicate key
    case 1406:  // data too long for column
    case 1366:  // incorrect string value (bad charset)
    case 1264:  // out of range value
    case 1048:  // column cannot be null
    case 3140:  // MySQL 8: invalid JSON text
    case 4038:  // MariaDB: syntax error in JSON text
      return ErrorClass::invalid_argument;
    default:
      return ErrorClass::fatal;
  }
}

std::exception_ptr makeStorageError(ErrorClass c, std::string_view operation, int code,
                                    std::string_view sqlstate, std::string_view message) {
  std::string text(operation);
  text += ": ";
  text += message;
  if (c != ErrorClass::not_found && c != ErrorClass::invalid_argument) {
    text += " (server error " + std::to_string(code);
    if (!sqlstate.empty()) text += ", SQLSTATE " + std::string(sqlstate);
    text += ")";
  }
  std::string state(sqlstate);
  switch (c) {
    case ErrorClass::connection_lost:
      return std::make_exception_ptr(ConnectionError(text, code, std::move(state)));
    case ErrorClass::not_found:
      return std::make_exception_ptr(NotFoundError(text, code, std::move(state)));
    case ErrorClass::invalid_argument:
      return std::make_exception_ptr(InvalidArgument(text, code, std::move(state)));
    case ErrorClass::transient:
    case ErrorClass::fatal:
      break;
  }
  return std::make_exception_ptr(StorageError(text, code, std::move(state)));
}

ServerFailure ServerFailure::from(const sql::SQLException& e) {
  return ServerFailure(e.getErrorCode(), e.getSQLState(), e.what());
}

ServerFailure ServerFailure::whileConnecting(const sql::SQLException& e) {
  ServerFailure failure = from(e);
  failure.while_connecting = true;
  return failure;
}

}  // namespace qtopology::detail
