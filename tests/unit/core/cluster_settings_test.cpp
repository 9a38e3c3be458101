// The one table of the cluster's settings: its checks, and docs/worker.md's
// copy of it, row for row.
#include <gtest/gtest.h>

#include <fstream>

#include <qtopology/coordination_storage.hpp>

namespace qtopology {
namespace {

TEST(ClusterSettings, CheckAcceptsTheRangeAndNamesWhatIsWrong) {
  EXPECT_EQ(checkSetting("leader_timeout_s", 2).name, "leader_timeout_s");
  EXPECT_EQ(checkSetting("leader_timeout_s", 3600).default_value, 10);
  EXPECT_THROW(checkSetting("leader_timeout_s", 1), InvalidArgument);
  EXPECT_THROW(checkSetting("leader_timeout_s", 3601), InvalidArgument);
  EXPECT_THROW(checkSetting("db_version", 1), InvalidArgument);
  EXPECT_EQ(findSettingSpec("leadership_epoch"), nullptr);
  try {
    checkSetting(std::string("x\n", 2) + std::string(200, 'y'), 1);
    FAIL();
  } catch (const InvalidArgument& e) {
    const std::string text = e.what();
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;                   // escaped
    EXPECT_EQ(text.find(std::string(101, 'y')), std::string::npos) << text;  // cut
    EXPECT_NE(text.find("known: worker_dead_timeout_s"), std::string::npos) << text;
  }
  for (const auto& spec : clusterSettingSpecs()) {
    EXPECT_LE(spec.min, spec.default_value) << spec.name;
    EXPECT_LE(spec.default_value, spec.max) << spec.name;
    EXPECT_EQ(findSettingSpec(spec.name), &spec);
  }
}

// docs/worker.md's table under "Failover time" is this table: same names,
// order, defaults, ranges and meanings.
TEST(ClusterSettings, DocsShowTheLibrarysTable) {
  std::ifstream doc(std::string(QTOPOLOGY_SOURCE_DIR) + "/docs/worker.md");
  std::vector<std::string> rows;
  bool in_section = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Failover time";
    if (in_section && line.rfind("| `", 0) == 0 && line.find("_s` |") != std::string::npos) {
      rows.push_back(line);
    }
  }
  const auto& specs = clusterSettingSpecs();
  ASSERT_EQ(rows.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    std::string meaning(specs[i].meaning);
    // The docs put the names in backticks.
    for (const auto& other : specs) {
      const std::string name(other.name);
      for (auto at = meaning.find(name); at != std::string::npos;
           at = meaning.find(name, at + name.size() + 2)) {
        meaning.replace(at, name.size(), "`" + name + "`");
      }
    }
    EXPECT_EQ(rows[i], "| `" + std::string(specs[i].name) + "` | " +
                           std::to_string(specs[i].default_value) + " | " +
                           std::to_string(specs[i].min) + "-" + std::to_string(specs[i].max) +
                           " | " + meaning + " |");
  }
}

}  // namespace
}  // namespace qtopology
