# Script mode: cmake -DASSET_DIR=... -DOUTPUT=... -P EmbedAssets.cmake
# Writes a C++ source holding the dashboard page's files (html, js, css) as
# raw string literals, so the binary serves them with nothing on disk.
file(GLOB asset_files RELATIVE "${ASSET_DIR}" "${ASSET_DIR}/*.html" "${ASSET_DIR}/*.js"
     "${ASSET_DIR}/*.css")
list(SORT asset_files)
set(delimiter "qtopology_asset")
set(entries "")
foreach(file IN LISTS asset_files)
  file(READ "${ASSET_DIR}/${file}" text)
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string terminator )${delimiter}\"")
  endif()
  if(file MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(file MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  else()
    set(type "text/css; charset=utf-8")
  endif()
  string(APPEND entries "      {\"/${file}\", \"${type}\", R\"${delimiter}(${text})${delimiter}\"},\n")
endforeach()
set(content "// Generated from apps/cli/dashboard/assets by cmake/EmbedAssets.cmake. Do not edit.
#include \"dashboard/assets.hpp\"

namespace qtopology::cli::dashboard {

const std::vector<Asset>& assets() {
  static const std::vector<Asset> all{
${entries}  };
  return all;
}

}  // namespace qtopology::cli::dashboard
")
include("${CMAKE_CURRENT_LIST_DIR}/WriteIfChanged.cmake")
write_if_changed("${OUTPUT}" "${content}")
