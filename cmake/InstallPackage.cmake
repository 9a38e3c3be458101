# The install tree: the libraries and headers, the CMake package qtopology
# with one component per layer (core, mysql), the old package name
# qtopology_mysql as a shim over it, and one pkg-config file per layer.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
include("${CMAKE_CURRENT_LIST_DIR}/PkgConfigLinkFlags.cmake")

set(qtopology_components core)
if(TARGET qtopology_mysql)
  list(APPEND qtopology_components mysql)
endif()
set(config_dir "${CMAKE_INSTALL_LIBDIR}/cmake/qtopology")
set(shim_dir "${CMAKE_INSTALL_LIBDIR}/cmake/qtopology_mysql")

# The MySQL layer's headers (mysql_*.hpp) belong to the mysql component.
install(DIRECTORY include/qtopology DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp" PATTERN "mysql_*.hpp" EXCLUDE)
if("mysql" IN_LIST qtopology_components)
  file(GLOB mysql_headers "${PROJECT_SOURCE_DIR}/include/qtopology/mysql_*.hpp")
  install(FILES ${mysql_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qtopology)
endif()

foreach(component IN LISTS qtopology_components)
  # One export set per component: the config file loads only the ones asked
  # for.
  install(TARGETS qtopology_${component} EXPORT qtopology_${component}_targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT qtopology_${component}_targets NAMESPACE qtopology::
    FILE qtopology-${component}-targets.cmake DESTINATION ${config_dir})
  configure_file(cmake/qtopology-${component}-dependencies.cmake.in
    "${PROJECT_BINARY_DIR}/qtopology-${component}-dependencies.cmake" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/qtopology-${component}-dependencies.cmake"
    DESTINATION ${config_dir})
endforeach()

configure_package_config_file(cmake/qtopologyConfig.cmake.in
  "${PROJECT_BINARY_DIR}/qtopologyConfig.cmake" INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/qtopologyConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/qtopologyConfig.cmake"
  "${PROJECT_BINARY_DIR}/qtopologyConfigVersion.cmake"
  DESTINATION ${config_dir})
if("mysql" IN_LIST qtopology_components AND NOT BUILD_SHARED_LIBS)
  # A static MySQL layer brings its client libraries to the consumer's link.
  install(FILES cmake/FindMySQLConnectorCpp.cmake cmake/FindMariaDBClient.cmake
    DESTINATION ${config_dir})
endif()

configure_package_config_file(cmake/qtopology_mysqlConfig.cmake.in
  "${PROJECT_BINARY_DIR}/qtopology_mysqlConfig.cmake" INSTALL_DESTINATION ${shim_dir})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/qtopology_mysqlConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/qtopology_mysqlConfig.cmake"
  "${PROJECT_BINARY_DIR}/qtopology_mysqlConfigVersion.cmake"
  DESTINATION ${shim_dir})

# pkg-config, for builds without CMake, as fmt's: Cflags has the package's
# own include directory only. A shared library records its own dependencies,
# so its .pc file names none but nlohmann_json, whose headers the public ones
# include; a static one lists in Libs.private what its link needs, as CMake
# found it, so that no other package's .pc file (and none of their flags) is
# needed. The prefix is the one installed to, normalised, written at install
# time (pkg-config --define-prefix relocates a moved tree).
set(core_pc_private spdlog::spdlog Threads::Threads)
set(mysql_pc_private MySQLConnectorCpp::MySQLConnectorCpp MariaDBClient::MariaDBClient
  OpenSSL::Crypto spdlog::spdlog Threads::Threads)
foreach(component IN LISTS qtopology_components)
  set(pc_libs_private "")
  if(NOT BUILD_SHARED_LIBS)
    qtopology_pkg_config_link_flags(pc_libs_private ${${component}_pc_private})
    set(pc_libs_private "Libs.private: ${pc_libs_private}\n")
  endif()
  # Kept for the second pass, at install time.
  set(PC_INSTALL_PREFIX "@PC_INSTALL_PREFIX@")
  set(PC_LIBDIR "@PC_LIBDIR@")
  set(PC_INCLUDEDIR "@PC_INCLUDEDIR@")
  set(template "${PROJECT_BINARY_DIR}/pkgconfig/qtopology_${component}.pc.in")
  configure_file(cmake/qtopology_${component}.pc.in "${template}" @ONLY)
  install(CODE "
    set(QTOPOLOGY_PC_TEMPLATE \"${template}\")
    set(QTOPOLOGY_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
    set(QTOPOLOGY_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
    include(\"${PROJECT_SOURCE_DIR}/cmake/WritePkgConfig.cmake\")")
endforeach()
