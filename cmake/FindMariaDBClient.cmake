# Finds MariaDB Connector/C (libmariadb, <mysql.h>): the client library that
# Connector/C++ 1.1 itself runs on (Debian: libmariadb-dev). The library reads
# results of many rows with it directly (src/bulk_read_session.cpp).
#
# Result: the imported target MariaDBClient::MariaDBClient.

if(TARGET MariaDBClient::MariaDBClient)
  set(MariaDBClient_FOUND TRUE)
  return()
endif()

find_path(MariaDBClient_INCLUDE_DIR NAMES mysql.h PATH_SUFFIXES mariadb)
find_library(MariaDBClient_LIBRARY NAMES mariadb PATH_SUFFIXES lib64 lib)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MariaDBClient
  REQUIRED_VARS MariaDBClient_LIBRARY MariaDBClient_INCLUDE_DIR)

if(MariaDBClient_FOUND)
  add_library(MariaDBClient::MariaDBClient UNKNOWN IMPORTED)
  set_target_properties(MariaDBClient::MariaDBClient PROPERTIES
    IMPORTED_LOCATION "${MariaDBClient_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${MariaDBClient_INCLUDE_DIR}")
endif()
mark_as_advanced(MariaDBClient_INCLUDE_DIR MariaDBClient_LIBRARY)
