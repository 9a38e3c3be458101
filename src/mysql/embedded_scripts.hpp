// The db/*.sql files, compiled into the library by cmake/EmbedSql.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace qtopology::detail {

struct EmbeddedScript {
  std::string_view name;  // file name, e.g. "v18.sql"
  int version;            // N of vN.sql; 0 for the others
  std::string_view text;
};

// The vN.sql upgrades, in no particular order.
const std::vector<EmbeddedScript>& upgradeScripts();
// init.sql, reset.sql, clear.sql.
const EmbeddedScript& namedScript(std::string_view name);

}  // namespace qtopology::detail
