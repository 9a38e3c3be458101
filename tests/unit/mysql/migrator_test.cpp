#include <gtest/gtest.h>

#include <qtopology/coordination_storage.hpp>

#include "mysql/embedded_scripts.hpp"
#include "mysql/migrator.hpp"

namespace qtopology::detail {
namespace {

EmbeddedScript script(int version, std::string_view text) { return {"vN.sql", version, text}; }

TEST(ReplacedVersions, ReadsTheHeaderLine) {
  EXPECT_EQ(replacedVersions(script(24, "-- Version 24\n-- replaces: 19 20  23\n-- more\n")),
            (std::vector<int>{19, 20, 23}));
  EXPECT_TRUE(replacedVersions(script(24, "-- Version 24\nselect 1;\n")).empty());
}

TEST(ReplacedVersions, RefusesVersionsOutsideBaselineAndItself) {
  EXPECT_THROW(replacedVersions(script(24, "--\n-- replaces: 24\n")), SchemaError);
  EXPECT_THROW(replacedVersions(script(24, "--\n-- replaces: 12\n")), SchemaError);
  EXPECT_THROW(replacedVersions(script(24, "--\n-- replaces: 19, 20\n")), SchemaError);
}

// Every replacing file compiled in is well formed, and the versions it
// replaces exist: a typo would silently skip nothing.
TEST(ReplacedVersions, EmbeddedScriptsReplaceExistingFiles) {
  for (const auto& replacing : upgradeScripts()) {
    for (int old : replacedVersions(replacing)) {
      bool found = false;
      for (const auto& other : upgradeScripts()) found = found || other.version == old;
      EXPECT_TRUE(found) << replacing.name << " replaces missing v" << old;
    }
  }
}

}  // namespace
}  // namespace qtopology::detail
