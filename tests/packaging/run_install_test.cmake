# Script mode. For the shared libraries of BUILD_DIR, and for static ones
# built here from SOURCE_DIR: installs into a scratch prefix, then builds and
# runs outside projects that find the package: one on qtopology::core alone
# (which must load no MySQL client library), one on qtopology::mysql, and the
# core one again through pkg-config.
file(REMOVE_RECURSE "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGV}\n${out}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# consume(PREFIX NAME): builds and runs the consumer NAME against PREFIX. The
# consumers start from C++14, older than the library's headers need, and set
# no standard themselves: only the exported targets' compile features can
# raise it to C++17.
function(consume prefix name)
  set(build "${prefix}-${name}")
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/packaging/${name}" -B "${build}"
      "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_FLAGS=-std=c++14")
  run("${CMAKE_COMMAND}" --build "${build}")
  run("${build}/${name}")
  set(binary "${build}/${name}" PARENT_SCOPE)
endfunction()

function(expect_no_mysql_client binary)
  run(ldd "${binary}")
  if(last_output MATCHES "mysqlcppconn|mariadb|mysqlclient")
    message(FATAL_ERROR "${binary} loads a MySQL client library:\n${last_output}")
  endif()
endfunction()

function(check_prefix prefix)
  consume("${prefix}" core_consumer)
  expect_no_mysql_client("${binary}")
  consume("${prefix}" mysql_consumer)
  # pkg-config, for builds without CMake.
  set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
  run(pkg-config --cflags --libs --static qtopology_core)
  string(STRIP "${last_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(c++ -std=c++17 "${SOURCE_DIR}/tests/packaging/core_consumer/main.cpp" ${flags}
      "-Wl,-rpath,${prefix}/lib" -o "${prefix}-pkg-config-consumer")
  run("${prefix}-pkg-config-consumer")
  expect_no_mysql_client("${prefix}-pkg-config-consumer")
endfunction()

# The shared libraries, as built.
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/shared")
check_prefix("${WORK_DIR}/shared")

# Static libraries: the package must bring their private dependencies.
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/static-build" -DBUILD_SHARED_LIBS=OFF
    -DQTOPOLOGY_MYSQL_BUILD_TESTS=OFF -DQTOPOLOGY_MYSQL_BUILD_APPS=OFF
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_LIBDIR=lib)
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/static-build" -j 2)
run("${CMAKE_COMMAND}" --install "${WORK_DIR}/static-build" --prefix "${WORK_DIR}/static")
check_prefix("${WORK_DIR}/static")
