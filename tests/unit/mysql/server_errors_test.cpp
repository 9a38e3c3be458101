#include <gtest/gtest.h>

#include <exception>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <utility>

#include <qtopology/coordination_storage.hpp>

#include "mysql/server_errors.hpp"

namespace {

using qtopology::ConnectionError;
using qtopology::InvalidArgument;
using qtopology::NotFoundError;
using qtopology::StorageError;
using qtopology::detail::classifyServerError;
using qtopology::detail::ErrorClass;
using qtopology::detail::isRetriable;
using qtopology::detail::makeStorageError;
using qtopology::detail::poisonsConnection;
using qtopology::detail::ServerFailure;

constexpr int kSignalException = 1644;  // ER_SIGNAL_EXCEPTION, what SIGNAL raises

// Dynamic type of the exception held by `error`; typeid(void) when it holds none.
std::type_index thrownType(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return typeid(e);
  }
  return typeid(void);
}

std::string messageOf(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

// --- classifyServerError -------------------------------------------------------

TEST(ClassifyServerError, LostConnectionDuringQuery2013IsConnectionLost) {
  EXPECT_EQ(classifyServerError(2013, "HY000"), ErrorClass::connection_lost);
}

TEST(ClassifyServerError, ServerGoneAway2006IsConnectionLost) {
  EXPECT_EQ(classifyServerError(2006, "HY000"), ErrorClass::connection_lost);
}

TEST(ClassifyServerError, ConnectionRefused2003IsConnectionLost) {
  EXPECT_EQ(classifyServerError(2003, "HY000"), ErrorClass::connection_lost);
}

TEST(ClassifyServerError, SocketConnectFailed2002IsConnectionLost) {
  EXPECT_EQ(classifyServerError(2002, "HY000"), ErrorClass::connection_lost);
}

TEST(ClassifyServerError, ConnectionKilled1927IsConnectionLost) {
  EXPECT_EQ(classifyServerError(1927, "70100"), ErrorClass::connection_lost);
}

TEST(ClassifyServerError, Deadlock1213IsTransient) {
  EXPECT_EQ(classifyServerError(1213, "40001"), ErrorClass::transient);
}

TEST(ClassifyServerError, LockWaitTimeout1205IsTransient) {
  EXPECT_EQ(classifyServerError(1205, "HY000"), ErrorClass::transient);
}

TEST(ClassifyServerError, GaleraNodeNotReady1047IsTransient) {
  EXPECT_EQ(classifyServerError(1047, "08S01"), ErrorClass::transient);
}

// Group Replication: a member that cannot commit (not ONLINE, no majority)
// is left for the next server; a lost certification is retried like 1213.
TEST(ClassifyServerError, GroupReplicationHookError3100IsConnectionLost) {
  EXPECT_EQ(classifyServerError(3100, "HY000"), ErrorClass::connection_lost);
  EXPECT_TRUE(poisonsConnection(classifyServerError(3100, "HY000")));
}

TEST(ClassifyServerError, GroupReplicationRollback3101IsTransient) {
  EXPECT_EQ(classifyServerError(3101, "40000"), ErrorClass::transient);
  EXPECT_FALSE(poisonsConnection(classifyServerError(3101, "40000")));
  EXPECT_TRUE(isRetriable(classifyServerError(3101, "40000")));
}

TEST(ClassifyServerError, DuplicateKey1062IsInvalidArgument) {
  EXPECT_EQ(classifyServerError(1062, "23000"), ErrorClass::invalid_argument);
}

TEST(ClassifyServerError, DataTooLong1406IsInvalidArgument) {
  EXPECT_EQ(classifyServerError(1406, "22001"), ErrorClass::invalid_argument);
}

TEST(ClassifyServerError, Signal45404IsNotFound) {
  EXPECT_EQ(classifyServerError(kSignalException, "45404"), ErrorClass::not_found);
}

TEST(ClassifyServerError, Signal45400IsInvalidArgument) {
  EXPECT_EQ(classifyServerError(kSignalException, "45400"), ErrorClass::invalid_argument);
}

TEST(ClassifyServerError, SqlstateWinsOverCode) {
  EXPECT_EQ(classifyServerError(2013, "45404"), ErrorClass::not_found);
}

TEST(ClassifyServerError, UnknownCodeIsFatal) {
  EXPECT_EQ(classifyServerError(1064, "42000"), ErrorClass::fatal);  // syntax error
  EXPECT_EQ(classifyServerError(99999, ""), ErrorClass::fatal);
  EXPECT_EQ(classifyServerError(kSignalException, "45000"), ErrorClass::fatal);
}

// --- poisonsConnection / isRetriable -------------------------------------------

TEST(ErrorClassPredicates, OnlyConnectionLostPoisonsTheConnection) {
  EXPECT_TRUE(poisonsConnection(ErrorClass::connection_lost));
  EXPECT_FALSE(poisonsConnection(ErrorClass::transient));
  EXPECT_FALSE(poisonsConnection(ErrorClass::not_found));
  EXPECT_FALSE(poisonsConnection(ErrorClass::invalid_argument));
  EXPECT_FALSE(poisonsConnection(ErrorClass::fatal));
}

TEST(ErrorClassPredicates, ConnectionLostAndTransientAreRetriable) {
  EXPECT_TRUE(isRetriable(ErrorClass::connection_lost));
  EXPECT_TRUE(isRetriable(ErrorClass::transient));
  EXPECT_FALSE(isRetriable(ErrorClass::not_found));
  EXPECT_FALSE(isRetriable(ErrorClass::invalid_argument));
  EXPECT_FALSE(isRetriable(ErrorClass::fatal));
}

// --- makeStorageError ------------------------------------------------------------

TEST(MakeStorageError, ConnectionLostBecomesConnectionError) {
  const auto error = makeStorageError(ErrorClass::connection_lost, "pingWorker(name=w1)", 2013,
                                      "HY000", "Lost connection to server during query");
  EXPECT_THROW(std::rethrow_exception(error), ConnectionError);
  const std::string what = messageOf(error);
  EXPECT_NE(what.find("pingWorker(name=w1)"), std::string::npos) << what;
  EXPECT_NE(what.find("Lost connection"), std::string::npos) << what;
  EXPECT_NE(what.find("2013"), std::string::npos) << what;
}

TEST(MakeStorageError, NotFoundBecomesNotFoundError) {
  const auto error = makeStorageError(ErrorClass::not_found, "assignTopology(uuid=t1)",
                                      kSignalException, "45404", "unknown topology");
  EXPECT_THROW(std::rethrow_exception(error), NotFoundError);
  EXPECT_NE(messageOf(error).find("assignTopology(uuid=t1)"), std::string::npos);
}

TEST(MakeStorageError, InvalidArgumentBecomesInvalidArgument) {
  const auto error = makeStorageError(ErrorClass::invalid_argument, "deleteWorker(name=w1)",
                                      kSignalException, "45400", "worker is not unloaded");
  EXPECT_THROW(std::rethrow_exception(error), InvalidArgument);
  EXPECT_NE(messageOf(error).find("deleteWorker(name=w1)"), std::string::npos);
}

TEST(MakeStorageError, TransientBecomesPlainStorageError) {
  const auto error =
      makeStorageError(ErrorClass::transient, "registerWorker(name=w1)", 1213, "40001", "Deadlock");
  EXPECT_THROW(std::rethrow_exception(error), StorageError);
  EXPECT_EQ(thrownType(error), std::type_index(typeid(StorageError)));
  EXPECT_NE(messageOf(error).find("registerWorker(name=w1)"), std::string::npos);
}

TEST(MakeStorageError, FatalBecomesPlainStorageErrorWithCode) {
  const auto error = makeStorageError(ErrorClass::fatal, "getWorkerStatus()", 1146, "42S02",
                                      "Table doesn't exist");
  EXPECT_THROW(std::rethrow_exception(error), StorageError);
  EXPECT_EQ(thrownType(error), std::type_index(typeid(StorageError)));
  const std::string what = messageOf(error);
  EXPECT_NE(what.find("getWorkerStatus()"), std::string::npos) << what;
  EXPECT_NE(what.find("1146"), std::string::npos) << what;
  EXPECT_NE(what.find("Table doesn't exist"), std::string::npos) << what;
}

TEST(MakeStorageError, ExactTypesOfDerivedErrors) {
  EXPECT_EQ(thrownType(makeStorageError(ErrorClass::connection_lost, "op", 2006, "", "m")),
            std::type_index(typeid(ConnectionError)));
  EXPECT_EQ(thrownType(makeStorageError(ErrorClass::not_found, "op", 1644, "45404", "m")),
            std::type_index(typeid(NotFoundError)));
  EXPECT_EQ(thrownType(makeStorageError(ErrorClass::invalid_argument, "op", 1062, "23000", "m")),
            std::type_index(typeid(InvalidArgument)));
}

// --- structured errors ------------------------------------------------------------

// The code and SQLSTATE of the exception held by `error`.
std::pair<int, std::string> codeOf(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const StorageError& e) {
    return {e.code(), e.sqlstate()};
  }
}

TEST(StructuredErrors, EveryClassCarriesTheServerCodeAndSqlstate) {
  EXPECT_EQ(codeOf(makeStorageError(ErrorClass::not_found, "op", 1644, "45404", "m")),
            std::make_pair(1644, std::string("45404")));
  EXPECT_EQ(codeOf(makeStorageError(ErrorClass::invalid_argument, "op", 1062, "23000", "m")),
            std::make_pair(1062, std::string("23000")));
  EXPECT_EQ(codeOf(makeStorageError(ErrorClass::connection_lost, "op", 2013, "HY000", "m")),
            std::make_pair(2013, std::string("HY000")));
  EXPECT_EQ(codeOf(makeStorageError(ErrorClass::transient, "op", 1213, "40001", "m")),
            std::make_pair(1213, std::string("40001")));
}

TEST(StructuredErrors, AnErrorWithoutServerHasCodeZero) {
  const InvalidArgument checked("registerWorker(worker=): name is empty");
  EXPECT_EQ(checked.code(), 0);
  EXPECT_EQ(checked.sqlstate(), "");
  const StorageError from_text(std::string("text"));
  EXPECT_EQ(from_text.code(), 0);
}

TEST(StructuredErrors, FailingToConnectIsAConnectionErrorButRetriedByItsCode) {
  // a wrong password: never retried, yet reported as a ConnectionError
  const ServerFailure denied(1045, "28000", "Access denied", true);
  EXPECT_FALSE(denied.retriable());
  EXPECT_EQ(thrownType(denied.toStorageError("connecting")),
            std::type_index(typeid(ConnectionError)));
  EXPECT_EQ(codeOf(denied.toStorageError("connecting")),
            std::make_pair(1045, std::string("28000")));
  // a refused connection: retried
  const ServerFailure refused(2003, "HY000", "refused", true);
  EXPECT_TRUE(refused.retriable());
}

}  // namespace
