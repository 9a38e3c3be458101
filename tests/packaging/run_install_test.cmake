# Script mode: installs the package into a scratch prefix, then checks the
# installed tree and builds and runs outside projects on it. MODE:
#   shared     the shared libraries of BUILD_DIR, as built;
#   static     static libraries built here from SOURCE_DIR;
#   core_only  qtopology::core alone, built here from SOURCE_DIR with
#              QTOPOLOGY_MYSQL_WITH_MYSQL=OFF, as on a machine without any
#              MySQL client (see check_core_only below for what proves it).
# The consumers: core_consumer (COMPONENTS core), mysql_consumer (COMPONENTS
# core mysql), shim_consumer (the old name, find_package(qtopology_mysql)),
# component_probe (what find_package reports), and the two programs again
# through pkg-config.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(consumers "${SOURCE_DIR}/tests/packaging")
# What names a MySQL client: libraries, headers, find modules.
set(mysql_client_pattern "mariadb|cppconn|mysqlcppconn|mysqlclient|mysql\\.h|MySQLConnectorCpp|MariaDBClient")
# The dependency files are the compiler's own record of every header it read
# (Ninja consumes them; Makefiles keep them).
set(generator -G "Unix Makefiles")

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGV}\n${out}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# Like run(), but the command must fail with output matching `expected`.
function(run_failing expected)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(result EQUAL 0 OR NOT out MATCHES "${expected}")
    message(FATAL_ERROR "expected failure matching '${expected}' (${result}): ${ARGN}\n${out}")
  endif()
endfunction()

# consume(PREFIX NAME [CMAKE_ARG...]): configures, builds and runs the
# consumer NAME against PREFIX. The consumers start from C++14, older than the
# library's headers need, and set no standard themselves: only the exported
# targets' compile features can raise it to C++17.
function(consume prefix name)
  set(build "${prefix}-${name}")
  run("${CMAKE_COMMAND}" ${generator} -S "${consumers}/${name}" -B "${build}"
      "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_FLAGS=-std=c++14" ${ARGN})
  run("${CMAKE_COMMAND}" --build "${build}")
  run("${build}/${name}")
  set(binary "${build}/${name}" PARENT_SCOPE)
  set(consumer_build "${build}" PARENT_SCOPE)
endfunction()

# The MySQL client packages made unfindable: a consumer that asks for them
# fails to configure.
set(no_mysql_client -DCMAKE_DISABLE_FIND_PACKAGE_MySQLConnectorCpp=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_MariaDBClient=ON -DCMAKE_DISABLE_FIND_PACKAGE_mysql-concpp=ON)

function(expect_no_mysql_client binary)
  run(ldd "${binary}")
  if(last_output MATCHES "mysqlcppconn|mariadb|mysqlclient")
    message(FATAL_ERROR "${binary} loads a MySQL client library:\n${last_output}")
  endif()
endfunction()

# No header a compilation under `dir` read names a MySQL client; and there
# were compilations (the record is not empty), which read nlohmann/json.
function(expect_no_mysql_header dir)
  file(GLOB_RECURSE depfiles "${dir}/*.o.d")
  if(NOT depfiles)
    message(FATAL_ERROR "no compiler dependency files under ${dir}")
  endif()
  set(json_seen FALSE)
  foreach(depfile IN LISTS depfiles)
    file(READ "${depfile}" headers)
    if(headers MATCHES "[^ ]*(${mysql_client_pattern})[^ ]*")
      message(FATAL_ERROR "${depfile}: the compilation read ${CMAKE_MATCH_0}")
    endif()
    if(headers MATCHES "nlohmann/json.hpp")
      set(json_seen TRUE)
    endif()
  endforeach()
  if(NOT json_seen)
    message(FATAL_ERROR "the dependency files under ${dir} do not list nlohmann/json.hpp")
  endif()
endfunction()

# The shared libraries' dynamic symbol tables: the public API and nothing of
# detail:: (libstdc++'s own std::__detail instantiations aside).
function(expect_exports_public_api_only prefix)
  file(GLOB libraries "${prefix}/lib/libqtopology_*.so")
  if(NOT libraries)
    message(FATAL_ERROR "no shared library in ${prefix}/lib")
  endif()
  foreach(library IN LISTS libraries)
    run(nm -D -C --defined-only "${library}")
    string(REGEX MATCHALL "[^\n]*[^_a-zA-Z]detail::[^\n]*" leaked "${last_output}")
    if(leaked)
      list(JOIN leaked "\n" leaked)
      message(FATAL_ERROR "${library} exports detail:: symbols:\n${leaked}")
    endif()
    if(NOT last_output MATCHES "qtopology::")
      message(FATAL_ERROR "${library} exports no qtopology:: symbol")
    endif()
  endforeach()
  run(nm -D -C --defined-only "${prefix}/lib/libqtopology_core.so")
  foreach(api "qtopology::MemoryStorage::" "qtopology::TopologyWorker::"
          "qtopology::escapeControl" "qtopology::parseBoundedJson" "typeinfo for qtopology::StorageError")
    string(FIND "${last_output}" "${api}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "libqtopology_core.so does not export ${api}")
    endif()
  endforeach()
endfunction()

# pkg-config with nothing on its path but this package's .pc files and
# nlohmann_json's (the one dependency the public headers include): no
# spdlog, fmt or libmariadb .pc file.
function(use_only_own_pc_files prefix)
  execute_process(COMMAND pkg-config --variable=pcfiledir nlohmann_json
    OUTPUT_VARIABLE json_pc_dir OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(deps "${WORK_DIR}/pc-deps")
  file(MAKE_DIRECTORY "${deps}")
  file(COPY "${json_pc_dir}/nlohmann_json.pc" DESTINATION "${deps}")
  set(ENV{PKG_CONFIG_LIBDIR} "${prefix}/lib/pkgconfig:${deps}")
  unset(ENV{PKG_CONFIG_PATH})
  unset(ENV{PKG_CONFIG_SYSROOT_DIR})
endfunction()

# pkg_config_consumer(PREFIX PACKAGE SOURCE STATIC): builds and runs SOURCE
# with the flags pkg-config gives for PACKAGE, and checks them: Cflags is the
# package's include directory alone, paths are normalised. Plain -I, unlike
# CMake's imported (system) include directories: the installed headers must
# compile without a warning at a strict host's level, C++17 and C++20.
function(pkg_config_consumer prefix package source static)
  run(pkg-config --cflags ${package})
  string(STRIP "${last_output}" cflags)
  if(NOT cflags STREQUAL "-I${prefix}/include")
    message(FATAL_ERROR "pkg-config --cflags ${package}: '${cflags}', not -I${prefix}/include")
  endif()
  set(static_flag "")
  if(static)
    set(static_flag --static)
  endif()
  run(pkg-config --libs ${static_flag} ${package})
  string(STRIP "${last_output}" libs)
  if("${cflags} ${libs}" MATCHES "//|/\\./|/\\.\\./")
    message(FATAL_ERROR "pkg-config ${package}: paths not normalised: ${cflags} ${libs}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${cflags} ${libs}")
  set(binary "${prefix}-pkg-config-${package}")
  set(strict -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror)
  run(c++ -std=c++20 ${strict} -fsyntax-only "${source}" ${cflags})
  run(c++ -std=c++17 ${strict} "${source}" ${flags} "-Wl,-rpath,${prefix}/lib" -o "${binary}")
  run("${binary}")
  set(binary "${binary}" PARENT_SCOPE)
endfunction()

# The installed .pc files name no private dependency of a shared build, and
# no include directory or define of one in any build.
function(expect_clean_pc_files prefix shared)
  file(GLOB pc_files "${prefix}/lib/pkgconfig/*.pc")
  foreach(pc IN LISTS pc_files)
    file(READ "${pc}" text)
    if(text MATCHES "Cflags:[^\n]*(-D|mariadb|spdlog)")
      message(FATAL_ERROR "${pc}: Cflags has more than the include directory:\n${text}")
    endif()
    if(text MATCHES "Requires\\.private")
      message(FATAL_ERROR "${pc}: Requires.private makes pkg-config need other .pc files:\n${text}")
    endif()
    if(shared AND text MATCHES "Libs\\.private|spdlog|mariadb|mysqlcppconn")
      message(FATAL_ERROR "${pc}: a shared build names private dependencies:\n${text}")
    endif()
  endforeach()
endfunction()

function(check_full_prefix prefix shared)
  # The component package, and only what is asked for is looked for: core
  # configures with the MySQL client unfindable, also for static libraries.
  consume("${prefix}" core_consumer ${no_mysql_client})
  expect_no_mysql_client("${binary}")
  expect_no_mysql_header("${consumer_build}")
  consume("${prefix}" mysql_consumer)
  consume("${prefix}" shim_consumer)
  consume("${prefix}" component_probe "-DPROBE_COMPONENTS=mysql")
  if(NOT shared)
    # A static MySQL layer needs its client libraries: asking for it with
    # them missing is refused at configure time, not at link time.
    run_failing("MySQLConnectorCpp" "${CMAKE_COMMAND}" ${generator}
      -S "${consumers}/mysql_consumer" -B "${prefix}-mysql-without-client"
      "-DCMAKE_PREFIX_PATH=${prefix}" ${no_mysql_client})
  endif()
  run_failing("no component \"storage\"" "${CMAKE_COMMAND}" ${generator}
    -S "${consumers}/component_probe" -B "${prefix}-unknown-component"
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DPROBE_COMPONENTS=storage")

  expect_clean_pc_files("${prefix}" ${shared})
  use_only_own_pc_files("${prefix}")
  pkg_config_consumer("${prefix}" qtopology_core "${consumers}/core_consumer/main.cpp" ${static})
  expect_no_mysql_client("${binary}")
  pkg_config_consumer("${prefix}" qtopology_mysql "${consumers}/mysql_consumer/main.cpp" ${static})
endfunction()

if(MODE STREQUAL "shared")
  set(static FALSE)
  run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/shared")
  expect_exports_public_api_only("${WORK_DIR}/shared")
  check_full_prefix("${WORK_DIR}/shared" TRUE)
elseif(MODE STREQUAL "static")
  set(static TRUE)
  # The install prefix given as an unnormalised path: the .pc files must not
  # carry it over.
  run("${CMAKE_COMMAND}" ${generator} -S "${SOURCE_DIR}" -B "${WORK_DIR}/static-build"
      -DBUILD_SHARED_LIBS=OFF -DQTOPOLOGY_MYSQL_BUILD_TESTS=OFF -DQTOPOLOGY_MYSQL_BUILD_APPS=OFF
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_LIBDIR=lib)
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}/static-build" -j 2)
  run("${CMAKE_COMMAND}" --install "${WORK_DIR}/static-build" --prefix "${WORK_DIR}//./static/")
  check_full_prefix("${WORK_DIR}/static" FALSE)
elseif(MODE STREQUAL "core_only")
  set(prefix "${WORK_DIR}/core")
  set(build "${WORK_DIR}/core-build")
  # The MySQL client packages unfindable: the configuration must not ask for
  # them (it would fail) ...
  run("${CMAKE_COMMAND}" ${generator} -S "${SOURCE_DIR}" -B "${build}"
      -DQTOPOLOGY_MYSQL_WITH_MYSQL=OFF ${no_mysql_client}
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_LIBDIR=lib)
  if(EXISTS "${build}/CMakeCache.txt")
    file(STRINGS "${build}/CMakeCache.txt" cached REGEX "^(MySQLConnectorCpp|MariaDBClient)_")
    if(cached)
      message(FATAL_ERROR "the core-only configuration looked for a MySQL client: ${cached}")
    endif()
  endif()
  run("${CMAKE_COMMAND}" --build "${build}" -j 2)
  # ... no compilation may read one of their headers ...
  expect_no_mysql_header("${build}")
  run("${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")
  if(EXISTS "${prefix}/lib/libqtopology_mysql.so" OR EXISTS "${prefix}/include/qtopology/mysql_coordinator.hpp")
    message(FATAL_ERROR "the core-only installation has the MySQL layer")
  endif()
  # ... nothing installed may name one ...
  file(GLOB_RECURSE installed "${prefix}/*")
  foreach(file IN LISTS installed)
    if(file MATCHES "\\.(cmake|pc|hpp)$")
      file(READ "${file}" text)
      if(text MATCHES "${mysql_client_pattern}")
        message(FATAL_ERROR "${file} names a MySQL client (${CMAKE_MATCH_0})")
      endif()
    endif()
  endforeach()
  expect_exports_public_api_only("${prefix}")
  # ... and a host of core builds, links and runs a worker on it, reading no
  # MySQL client header and loading no MySQL client library.
  consume("${prefix}" core_consumer ${no_mysql_client})
  expect_no_mysql_header("${consumer_build}")
  expect_no_mysql_client("${binary}")
  consume("${prefix}" component_probe "-DPROBE_COMPONENTS=core")
  # The mysql component is refused by name, and the shim too.
  run_failing("component \"mysql\" is not installed" "${CMAKE_COMMAND}" ${generator}
    -S "${consumers}/component_probe" -B "${prefix}-probe-mysql"
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DPROBE_COMPONENTS=mysql")
  run_failing("component \"mysql\" is not installed" "${CMAKE_COMMAND}" ${generator}
    -S "${consumers}/shim_consumer" -B "${prefix}-shim" "-DCMAKE_PREFIX_PATH=${prefix}")
  expect_clean_pc_files("${prefix}" TRUE)
  use_only_own_pc_files("${prefix}")
  pkg_config_consumer("${prefix}" qtopology_core "${consumers}/core_consumer/main.cpp" FALSE)
  expect_no_mysql_client("${binary}")
  run_failing("qtopology_mysql" pkg-config --exists --print-errors qtopology_mysql)
else()
  message(FATAL_ERROR "MODE must be shared, static or core_only, not '${MODE}'")
endif()
