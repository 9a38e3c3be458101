# At install time (install(CODE)): writes the .pc file of
# QTOPOLOGY_PC_TEMPLATE for the prefix installed to and installs it into
# <libdir>/pkgconfig. Paths are normalised (no "//", "/./" or trailing "/");
# libdir and includedir are ${prefix}-relative unless given absolute.
set(PC_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
cmake_path(NORMAL_PATH PC_INSTALL_PREFIX)
string(REGEX REPLACE "(.)/$" "\\1" PC_INSTALL_PREFIX "${PC_INSTALL_PREFIX}")

function(pc_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(path "${dir}")
  else()
    set(path "\${prefix}/${dir}")
  endif()
  cmake_path(NORMAL_PATH path)
  string(REGEX REPLACE "(.)/$" "\\1" path "${path}")
  set(${out} "${path}" PARENT_SCOPE)
endfunction()
pc_dir(PC_LIBDIR "${QTOPOLOGY_PC_LIBDIR}")
pc_dir(PC_INCLUDEDIR "${QTOPOLOGY_PC_INCLUDEDIR}")

if(IS_ABSOLUTE "${QTOPOLOGY_PC_LIBDIR}")
  set(destination "${QTOPOLOGY_PC_LIBDIR}/pkgconfig")
else()
  set(destination "${PC_INSTALL_PREFIX}/${QTOPOLOGY_PC_LIBDIR}/pkgconfig")
endif()
get_filename_component(name "${QTOPOLOGY_PC_TEMPLATE}" NAME_WLE)
get_filename_component(template_dir "${QTOPOLOGY_PC_TEMPLATE}" DIRECTORY)
set(written "${template_dir}/install/${name}")
configure_file("${QTOPOLOGY_PC_TEMPLATE}" "${written}" @ONLY)
file(INSTALL "${written}" DESTINATION "${destination}")
