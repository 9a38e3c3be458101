# Finds the JDBC-style API of MySQL Connector/C++ (<cppconn/*.h>, mysqlcppconn).
#
# Oracle's 8.x/9.x packages install a CMake config (mysql-concpp) whose
# mysql::concpp-jdbc target is the same API: it is preferred when present.
# Debian's libmysqlcppconn-dev 1.1.x ships no config; then the headers and the
# library are searched for directly.
#
# Result: the imported target MySQLConnectorCpp::MySQLConnectorCpp.

if(TARGET MySQLConnectorCpp::MySQLConnectorCpp)
  set(MySQLConnectorCpp_FOUND TRUE)
  return()
endif()

find_package(mysql-concpp CONFIG QUIET)
if(TARGET mysql::concpp-jdbc)
  add_library(MySQLConnectorCpp::MySQLConnectorCpp INTERFACE IMPORTED)
  target_link_libraries(MySQLConnectorCpp::MySQLConnectorCpp INTERFACE mysql::concpp-jdbc)
  set(MySQLConnectorCpp_FOUND TRUE)
  return()
endif()

find_path(MySQLConnectorCpp_INCLUDE_DIR
  NAMES cppconn/driver.h
  PATH_SUFFIXES jdbc mysql-cppconn/jdbc mysql-cppconn-8/jdbc)
find_library(MySQLConnectorCpp_LIBRARY
  NAMES mysqlcppconn mysqlcppconn8 mysqlcppconn9
  PATH_SUFFIXES lib64 lib)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MySQLConnectorCpp
  REQUIRED_VARS MySQLConnectorCpp_LIBRARY MySQLConnectorCpp_INCLUDE_DIR)

if(MySQLConnectorCpp_FOUND)
  add_library(MySQLConnectorCpp::MySQLConnectorCpp UNKNOWN IMPORTED)
  set_target_properties(MySQLConnectorCpp::MySQLConnectorCpp PROPERTIES
    IMPORTED_LOCATION "${MySQLConnectorCpp_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${MySQLConnectorCpp_INCLUDE_DIR}")
endif()
mark_as_advanced(MySQLConnectorCpp_INCLUDE_DIR MySQLConnectorCpp_LIBRARY)
