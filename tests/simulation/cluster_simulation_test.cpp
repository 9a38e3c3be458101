// The seeded cluster simulation (simulated_cluster.hpp) over many seeds, one
// simulated hour each, in shards that ctest runs in parallel. A failing seed
// is printed with the command that replays it alone, every event logged:
//   QTOPOLOGY_SIM_SEED=<seed> <this program> --gtest_filter='*Replay*'
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "simulated_cluster.hpp"

namespace qtopology::simulation {
namespace {

constexpr int kShards = 4;
constexpr int kSeedsPerShard = 50;  // 200 seeds in all

std::string self() {
  char path[PATH_MAX];
  const auto n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "qtopology_simulation_tests";
}

void print(const std::string& title, const SimulationTotals& t) {
  std::string faults;
  for (const auto& [kind, count] : t.faults) {
    faults += (faults.empty() ? "" : ", ") + kind + " " + std::to_string(count);
  }
  std::printf(
      "%s: %.1f simulated hours, %ld steps, %ld faults (%s); %ld topology starts, %ld killed by "
      "their lease; overlaps: %ld with both owners running, %ld counting paused owners; %ld "
      "reports from former owners ignored; %ld tick() escapes; %ld topologies checked after "
      "healing\n",
      title.c_str(), t.simulated_hours, t.steps, t.faultCount(), faults.c_str(), t.starts,
      t.lease_kills, t.overlaps_unpaused, t.overlaps_any, t.reports_rejected, t.tick_throws,
      t.healed_topologies);
  std::fflush(stdout);
}

class ClusterSimulation : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::off); }
};

class ClusterSimulationCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { spdlog::set_level(spdlog::level::off); }
};

TEST_P(ClusterSimulation, SeedsKeepOneInstancePerTopologyAndHeal) {
  SimulationTotals totals;
  const int first = GetParam() * kSeedsPerShard;
  for (int seed = first; seed < first + kSeedsPerShard; ++seed) {
    const auto result = simulate(static_cast<std::uint64_t>(seed), nullptr);
    totals.add(result.totals);
    for (const auto& failure : result.failures) ADD_FAILURE() << "seed " << seed << ", " << failure;
    if (!result.failures.empty()) {
      std::printf("replay: QTOPOLOGY_SIM_SEED=%d %s --gtest_filter='*Replay*'\n", seed,
                  self().c_str());
    }
  }
  EXPECT_EQ(totals.overlaps_unpaused, 0);
  EXPECT_EQ(totals.overlaps_any, 0);
  EXPECT_GT(totals.faultCount(), 0);  // the faults happened
  EXPECT_GT(totals.healed_topologies, 0);
  print("seeds " + std::to_string(first) + "-" + std::to_string(first + kSeedsPerShard - 1),
        totals);
}

INSTANTIATE_TEST_SUITE_P(Shards, ClusterSimulation, ::testing::Range(0, kShards));

// The check can fail: without the supervisors, the children of a paused
// worker live on while the leader starts their topologies elsewhere.
TEST_F(ClusterSimulationCheck, WithoutSupervisorsPausedWorkersLeaveOverlaps) {
  SimulationTotals totals;
  for (int seed = 0; seed < 10; ++seed) {
    totals.add(simulate(static_cast<std::uint64_t>(1000 + seed), nullptr, false).totals);
  }
  print("unsupervised seeds 1000-1009", totals);
  EXPECT_GT(totals.overlaps_any, 0);
}

// One seed, from QTOPOLOGY_SIM_SEED, with every event printed.
TEST(ClusterSimulationReplay, Replay) {
  const char* seed_text = std::getenv("QTOPOLOGY_SIM_SEED");
  if (!seed_text || !*seed_text) GTEST_SKIP() << "set QTOPOLOGY_SIM_SEED to replay a seed";
  spdlog::set_level(std::getenv("QTOPOLOGY_SIM_WORKER_LOG") ? spdlog::level::info
                                                            : spdlog::level::off);
  const auto seed = std::stoull(seed_text);
  const auto result =
      simulate(seed, [](const std::string& line) { std::printf("%s\n", line.c_str()); });
  for (const auto& failure : result.failures) ADD_FAILURE() << "seed " << seed << ", " << failure;
  print("seed " + std::string(seed_text), result.totals);
}

}  // namespace
}  // namespace qtopology::simulation
