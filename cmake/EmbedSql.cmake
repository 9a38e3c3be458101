# Script mode: cmake -DSQL_DIR=... -DOUTPUT=... -P EmbedSql.cmake
# Writes a C++ source holding every db/*.sql file as a raw string literal, so
# a linked binary needs no files on disk to migrate a database.
file(GLOB sql_files RELATIVE "${SQL_DIR}" "${SQL_DIR}/*.sql")
list(SORT sql_files)
set(delimiter "qtopology_sql")
set(upgrades "")
set(named "")
foreach(file IN LISTS sql_files)
  file(READ "${SQL_DIR}/${file}" text)
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string terminator )${delimiter}\"")
  endif()
  set(entry "  {\"${file}\", VERSION, R\"${delimiter}(${text})${delimiter}\"},\n")
  if(file MATCHES "^v([0-9]+)\\.sql$")
    string(REPLACE "VERSION" "${CMAKE_MATCH_1}" entry "${entry}")
    string(APPEND upgrades "${entry}")
  else()
    string(REPLACE "VERSION" "0" entry "${entry}")
    string(APPEND named "${entry}")
  endif()
endforeach()
set(content "// Generated from db/*.sql by cmake/EmbedSql.cmake. Do not edit.
#include \"mysql/embedded_scripts.hpp\"

#include <stdexcept>
#include <string>

namespace qtopology::detail {

const std::vector<EmbeddedScript>& upgradeScripts() {
  static const std::vector<EmbeddedScript> scripts{
${upgrades}  };
  return scripts;
}

const EmbeddedScript& namedScript(std::string_view name) {
  static const std::vector<EmbeddedScript> scripts{
${named}  };
  for (const auto& script : scripts) {
    if (script.name == name) return script;
  }
  throw std::logic_error(\"no embedded script \" + std::string(name));
}

}  // namespace qtopology::detail
")
include("${CMAKE_CURRENT_LIST_DIR}/WriteIfChanged.cmake")
write_if_changed("${OUTPUT}" "${content}")
