// The dashboard in a real browser: Debian's headless chromium, driven by
// browser/drive_page.js, loads our page and qtopology's own page against a
// populated database. Screenshots land in the build tree (screenshots/).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "dashboard_process.hpp"
#include "test_database.hpp"

namespace qtopology::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Environment kBrowserEnvironment{{{"QTOPOLOGY_BROWSER_ENV", QTOPOLOGY_BROWSER_ENV}}, {}};

std::string screenshotPath(const std::string& name) {
  ::mkdir(QTOPOLOGY_SCREENSHOT_DIR, 0755);
  return std::string(QTOPOLOGY_SCREENSHOT_DIR) + "/" + name + ".png";
}

// The driver's report: the last line of its output.
Json reportOf(const std::string& output) {
  const auto end = output.find_last_not_of('\n');
  const auto start = output.rfind('\n', end);
  return Json::parse(output.substr(start == std::string::npos ? 0 : start + 1));
}

Json drive(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {QTOPOLOGY_BROWSER_SCRIPT};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run(QTOPOLOGY_NODE, argv, "", kBrowserEnvironment);
  if (r.exit_code != 0) throw std::runtime_error("drive_page.js failed:\n" + r.err + r.out);
  return reportOf(r.out);
}

// A row of one of our tables, by its first cell.
Json row(const Json& rows, const std::string& first_cell) {
  for (const auto& r : rows) {
    if (r.at("cells").at(0) == first_cell) return r;
  }
  ADD_FAILURE() << "no row " << first_cell << " in " << rows.dump();
  return Json::object();
}

class BrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = std::make_unique<MySqlCoordinator>(db_.options());
    populateCluster(*storage_);
  }
  void expectCleanPage(const Json& report) {
    EXPECT_EQ(report.at("alerts"), Json::array()) << "a script of the data ran";
    EXPECT_EQ(report.at("foreignRequests"), Json::array()) << "the page reached outside";
  }

  TestDatabase db_;
  std::unique_ptr<MySqlCoordinator> storage_;
};

// The storage keeps the worker a topology last ran on; the page shows it as
// that, not as where the topology runs.
TEST_F(BrowserTest, ATopologyThatIsNotRunningSaysWhereItRanLast) {
  storage_->assignTopology("reports-nightly", "worker-beta");
  storage_->setTopologyStatus(
      {"reports-nightly", std::string("worker-beta"), TopologyState::unassigned, std::nullopt});
  DashboardProcess dashboard(db_.url());
  const auto report = drive({"ours", dashboard.pageUrl(), screenshotPath("last-on")});
  const auto& page = report.at("initial");
  EXPECT_EQ(row(page.at("topologies"), "reports-nightly").at("cells").at(3), "last on worker-beta");
  EXPECT_EQ(row(page.at("topologies"), "orders-pipeline").at("cells").at(3), "worker-alpha");
  EXPECT_EQ(row(page.at("workers"), "worker-beta").at("cells").at(5), "-");
  EXPECT_EQ(row(page.at("workers"), "worker-alpha").at("cells").at(5), "orders-pipeline");
}

TEST_F(BrowserTest, OurPageShowsTheClusterAndItsProblems) {
  DashboardProcess dashboard(db_.url());
  const auto screenshot = screenshotPath("dashboard");
  // As an operator opens it: the printed URL, the generated token in its
  // fragment.
  ASSERT_FALSE(dashboard.token().empty());
  const auto report = drive({"ours", dashboard.pageUrl(), screenshot});
  expectCleanPage(report);
  EXPECT_EQ(report.at("consoleErrors"), Json::array());
  const auto& page = report.at("initial");

  // Workers: name, status, leadership, last ping, pid, topologies.
  ASSERT_EQ(page.at("workers").size(), 4u);
  const auto alpha = row(page.at("workers"), "worker-alpha");
  EXPECT_EQ(alpha.at("cells").at(1), "alive");
  EXPECT_EQ(alpha.at("cells").at(2), "leader");
  EXPECT_THAT(alpha.at("cells").at(3).get<std::string>(), HasSubstr("s ago"));
  EXPECT_EQ(alpha.at("cells").at(5), "orders-pipeline");
  EXPECT_THAT(alpha.at("buttons"), ::testing::Contains("Rebalance"));
  const auto gone = row(page.at("workers"), "worker-gone");
  EXPECT_EQ(gone.at("cells").at(1), "dead");
  EXPECT_TRUE(gone.at("problem")) << "a dead worker is marked";
  EXPECT_FALSE(alpha.at("problem"));
  EXPECT_THAT(row(page.at("workers"), "worker-old").at("buttons"), ::testing::Contains("Delete"));
  EXPECT_EQ(page.at("deadBadges"), 1);
  EXPECT_EQ(page.at("leaderBadges"), 1);
  EXPECT_FALSE(page.at("leaderBannerShown"));
  // The token came with the URL: no token field, no read-only mark, and the
  // address bar no longer shows it.
  EXPECT_FALSE(page.at("writesRefusedShown"));
  EXPECT_FALSE(page.at("tokenInputShown"));
  EXPECT_EQ(report.at("addressAfterLoad").get<std::string>().find("token"), std::string::npos)
      << report.at("addressAfterLoad");

  // Topologies: status, enabled, worker, weight, affinity, pid, error.
  ASSERT_EQ(page.at("topologies").size(), 4u);
  EXPECT_EQ(
      row(page.at("topologies"), "orders-pipeline").at("cells"),
      Json({"orders-pipeline", "running", "yes", "worker-alpha", "2", "worker-alpha", "4242", ""}));
  const auto billing = row(page.at("topologies"), "billing-sync");
  EXPECT_EQ(billing.at("cells").at(1), "error");
  EXPECT_EQ(billing.at("cells").at(7), "spout crashed: connection refused");
  EXPECT_TRUE(billing.at("problem"));
  EXPECT_THAT(billing.at("buttons"), ::testing::Contains("Clear error"));
  EXPECT_EQ(page.at("errorBadges"), 1);
  // The hostile name, as text: no element was made of it.
  const auto hostile = row(page.at("topologies"), kHostileUuid);
  EXPECT_EQ(hostile.at("cells").at(1), "unassigned");
  EXPECT_EQ(page.at("images"), 0);

  // The queue and the storage.
  ASSERT_EQ(page.at("queue").size(), 1u);
  EXPECT_EQ(page.at("queue").at(0).at("cells").at(0), "worker-beta");
  EXPECT_EQ(page.at("queue").at(0).at("cells").at(1), "start_topologies");
  bool database_shown = false;
  for (const auto& p : page.at("storage")) {
    database_shown = database_shown || (p.at(0) == "database" && p.at(1) == db_.name());
  }
  EXPECT_TRUE(database_shown) << page.at("storage").dump();
  EXPECT_FALSE(page.at("staleBannerShown"));
  // The cluster's settings: name, value, stored, default, range, meaning.
  ASSERT_EQ(page.at("settings").size(), clusterSettingSpecs().size());
  const auto dead = row(page.at("settings"), "worker_dead_timeout_s");
  EXPECT_EQ(dead.at("cells").at(1), "30");
  EXPECT_EQ(dead.at("cells").at(3), "30");
  EXPECT_EQ(dead.at("cells").at(4), "3-86400");
  EXPECT_THAT(dead.at("buttons"), ::testing::Contains("Set"));

  // Details of the hostile topology, and a worker's history.
  EXPECT_EQ(report.at("topologyDetails").at("title"), "Topology " + kHostileUuid);
  EXPECT_EQ(report.at("topologyDetails").at("config"),
            storage_->getTopologyInfo(kHostileUuid).config);
  EXPECT_GE(report.at("topologyDetails").at("historyRows"), 1);
  EXPECT_EQ(report.at("workerHistory").at(0), "dead");

  // Kill asks first: declined, nothing changed; confirmed, the storage
  // changed and the page shows it.
  ASSERT_GE(report.at("dialogs").size(), 2u);
  EXPECT_EQ(report.at("dialogs").at(0).at("type"), "confirm");
  EXPECT_THAT(report.at("dialogs").at(0).at("message").get<std::string>(),
              HasSubstr("Kill topology orders-pipeline?"));
  EXPECT_EQ(row(report.at("afterDeclined"), "orders-pipeline").at("cells").at(2), "yes");
  EXPECT_THAT(report.at("actionBanner").get<std::string>(), HasSubstr("asked its worker to kill"));
  EXPECT_FALSE(storage_->getTopologyInfo("orders-pipeline").enabled);
  const auto queue = storage_->getMsgQueueContent();
  EXPECT_TRUE(std::any_of(queue.begin(), queue.end(), [](const MsgQueueItem& m) {
    return m.name == "worker-alpha" && m.cmd == "kill_topology";
  }));

  // Registered through the page's dialog, after its complaint about bad JSON.
  EXPECT_THAT(report.at("registerError").get<std::string>(), HasSubstr("not valid JSON"));
  EXPECT_EQ(storage_->getTopologyInfo("from-the-page").weight, 5);
  EXPECT_EQ(row(report.at("final").at("topologies"), "from-the-page").at("cells").at(1),
            "unassigned");

  struct stat info {};
  ASSERT_EQ(::stat(screenshot.c_str(), &info), 0);
  EXPECT_GT(info.st_size, 10000) << screenshot;
}

TEST_F(BrowserTest, OurPageMarksAMissingLeaderAndRefusedWrites) {
  storage_->setWorkerLStatus("worker-alpha", Leadership::normal);
  DashboardProcess dashboard(db_.url(), {"--read-only"});
  const auto report = drive({"look", dashboard.pageUrl(), screenshotPath("dashboard-read-only")});
  expectCleanPage(report);
  const auto& page = report.at("page");
  EXPECT_TRUE(page.at("leaderBannerShown"));
  EXPECT_EQ(page.at("leaderBadges"), 0);
  EXPECT_TRUE(page.at("writesRefusedShown"));
  EXPECT_FALSE(page.at("tokenInputShown"));
  EXPECT_GT(page.at("writeButtons"), 10);
  EXPECT_EQ(page.at("enabledWriteButtons"), 0);
}

TEST_F(BrowserTest, OurPageAsksForTheTokenWhenTheServerWantsOne) {
  // A token of the operator's, not in the URL: reads need it too, so the
  // page shows nothing of the cluster until it is typed in.
  const std::string token = "browser-token-0123456789abcdef";
  DashboardProcess dashboard(db_.url(), {"--token", token});
  const auto report =
      drive({"token", dashboard.baseUrl(), screenshotPath("dashboard-token"), token});
  expectCleanPage(report);
  const auto& before = report.at("before");
  EXPECT_TRUE(before.at("tokenInputShown"));
  EXPECT_EQ(before.at("topologies").size(), 0u);
  EXPECT_TRUE(before.at("staleBannerShown"));
  EXPECT_THAT(before.at("staleBanner").get<std::string>(), HasSubstr("wants its token"));
  const auto& page = report.at("page");
  EXPECT_EQ(page.at("topologies").size(), 4u);
  EXPECT_FALSE(page.at("staleBannerShown"));
  EXPECT_TRUE(page.at("tokenInputShown"));
  EXPECT_FALSE(page.at("writesRefusedShown"));
  EXPECT_FALSE(page.at("leaderBannerShown"));
  EXPECT_EQ(page.at("enabledWriteButtons"), page.at("writeButtons"));
}

TEST_F(BrowserTest, OurPageSaysWhenItsDataIsStale) {
  // A user of its own, so the storage can be taken away from the dashboard
  // alone.
  const std::string user = "stale" + db_.name().substr(db_.name().size() - 6);
  db_.exec("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'stale-pw'");
  db_.exec("GRANT ALL ON `" + db_.name() + "`.* TO '" + user + "'@'%'");
  const auto o = db_.options();
  DashboardProcess dashboard("mysql://" + user + ":stale-pw@" + o.host + ":" +
                             std::to_string(o.port) + "/" + db_.name());
  const std::string go_file = ::testing::TempDir() + db_.name() + ".go";
  const std::string log_file = ::testing::TempDir() + db_.name() + ".driver.log";
  Child driver(QTOPOLOGY_NODE,
               {QTOPOLOGY_BROWSER_SCRIPT, "stale", dashboard.pageUrl(),
                screenshotPath("dashboard-stale"), go_file},
               log_file, kBrowserEnvironment);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (readFile(log_file).find("loaded") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << readFile(log_file);
    ASSERT_FALSE(driver.wait(std::chrono::milliseconds(100))) << readFile(log_file);
  }
  // The database goes away under the dashboard's feet.
  db_.exec("DROP USER '" + user + "'@'%'");
  const auto sessions = db_.scalar(
      "SELECT GROUP_CONCAT(id) FROM information_schema.processlist WHERE user = '" + user + "'");
  std::stringstream ids(sessions == "NULL" ? "" : sessions);
  for (std::string id; std::getline(ids, id, ',');) db_.exec("KILL " + id);
  std::ofstream(go_file) << "go";

  ASSERT_EQ(driver.wait(std::chrono::seconds(90)), 0) << readFile(log_file);
  const auto report = reportOf(readFile(log_file));
  std::remove(go_file.c_str());
  std::remove(log_file.c_str());
  EXPECT_FALSE(report.at("before").at("staleBannerShown"));
  EXPECT_TRUE(report.at("after").at("staleBannerShown"));
  EXPECT_THAT(report.at("after").at("staleBanner").get<std::string>(),
              HasSubstr("the database is unreachable"));
  EXPECT_THAT(report.at("after").at("staleBanner").get<std::string>(),
              HasSubstr("showing data from"));
  EXPECT_TRUE(report.at("staleClass"));
  // The last good data stays on screen.
  EXPECT_EQ(report.at("after").at("topologies").size(), 4u);
}

// qtopology's page sends no token: --open-reads.
TEST_F(BrowserTest, QtopologysOwnPageRendersOurData) {
  DashboardProcess dashboard(db_.url(), {"--open-reads"});
  const auto screenshot = screenshotPath("qtopology-page");
  const auto report = drive({"upstream", dashboard.baseUrl(), screenshot});
  expectCleanPage(report);
  const auto& page = report.at("page");

  std::map<std::string, Json> workers;
  for (const auto& w : page.at("workers")) workers[w.at("label")] = w.at("badges");
  ASSERT_EQ(workers.size(), 4u) << page.dump();
  EXPECT_EQ(workers.at("worker-alpha"), Json({"Leader", "Alive"}));
  EXPECT_EQ(workers.at("worker-gone"), Json({"Dead"}));
  EXPECT_EQ(workers.at("worker-old"), Json({"Unloaded"}));

  std::map<std::string, Json> topologies;
  for (const auto& t : page.at("topologies")) topologies[t.at("label")] = t;
  ASSERT_EQ(topologies.size(), 4u) << page.dump();
  EXPECT_EQ(topologies.at("orders-pipeline").at("badges"), Json({"Enabled", "Running"}));
  EXPECT_THAT(topologies.at("orders-pipeline").at("text").get<std::string>(),
              HasSubstr("worker: worker-alpha • pid: 4242"));
  EXPECT_EQ(topologies.at("billing-sync").at("badges"), Json({"Enabled", "Error"}));
  // Knockout's text binding: the hostile name is a label's text.
  EXPECT_EQ(topologies.at(kHostileUuid).at("badges"), Json({"Disabled", "Unassigned"}));
  for (const auto& src : page.at("images")) EXPECT_NE(src, "x");

  bool database_shown = false;
  for (const auto& p : page.at("storage")) {
    database_shown = database_shown || (p.at(0) == "database" && p.at(1) == db_.name());
  }
  EXPECT_TRUE(database_shown) << page.at("storage").dump();
  EXPECT_FALSE(page.at("errorShown"));
}

}  // namespace
}  // namespace qtopology::testing
