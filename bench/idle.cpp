#include "idle.hpp"

#include <qtopology/mysql_coordinator.hpp>
#include <qtopology/worker.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "raw_client.hpp"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;
const std::string kDatabase = "qb_idle";
constexpr std::chrono::milliseconds kTick{1000};
constexpr std::chrono::seconds kSettle{4};

// Nothing to run: an idle cluster.
class IdleRunner final : public qtopology::TopologyRunner {
 public:
  void setExitCallback(ExitCallback) override {}
  std::optional<int> start(const qtopology::StartRequest&) override { return std::nullopt; }
  void stop(const std::string&) override {}
  void kill(const std::string&) override {}
};

double counter(RawClient& raw, const char* name) {
  const auto value =
      raw.scalar(std::string("select variable_value from information_schema.global_status "
                             "where variable_name = '") +
                 name + "'");
  return value.empty() ? 0 : std::stod(value);
}

struct Counters {
  double commits, redo, binlog, questions;
};

Counters read(RawClient& raw) {
  return {counter(raw, "BINLOG_COMMITS"), counter(raw, "INNODB_LSN_CURRENT"),
          counter(raw, "BINLOG_BYTES_WRITTEN"), counter(raw, "QUESTIONS")};
}

IdleCost measure(const Target& target, int workers, double seconds,
                 const std::optional<int>& write_interval_s, const std::string& label) {
  recreateDatabase(target, kDatabase);
  auto options = qtopology::MySqlOptions::fromUrl(target.url_base + kDatabase);
  options.pool_size = 4;
  qtopology::MySqlCoordinator storage(options);
  RawClient raw(target.address, kDatabase);
  if (write_interval_s) {
    raw.query(
        "insert into qtopology_settings (name, value) values "
        "('heartbeat_write_interval_s', '" +
        std::to_string(*write_interval_s) + "')");
  }
  std::vector<IdleRunner> runners(workers);
  std::vector<std::unique_ptr<qtopology::TopologyWorker>> cluster;
  for (int w = 0; w < workers; ++w) {
    qtopology::WorkerOptions o;
    char name[16];
    std::snprintf(name, sizeof name, "iw%04d", w + 1);
    o.name = name;
    o.tick = kTick;
    cluster.push_back(std::make_unique<qtopology::TopologyWorker>(storage, runners[w], o));
    cluster.back()->start();
  }
  // One thread ticks them all, each once a second, spread over the second
  // as real workers' ticks are.
  const auto begin = Clock::now();
  const auto settled = begin + kSettle;
  const auto end =
      settled + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::optional<Counters> before;
  for (long round = 0;; ++round) {
    for (int w = 0; w < workers; ++w) {
      std::this_thread::sleep_until(begin + round * kTick + kTick * w / workers);
      cluster[w]->tick();
    }
    if (!before && Clock::now() >= settled) before = read(raw);
    if (Clock::now() >= end) break;
  }
  const Counters after = read(raw);
  const double window = std::chrono::duration<double>(Clock::now() - settled).count();
  for (auto& worker : cluster) worker->shutdown();

  IdleCost cost;
  cost.label = label;
  cost.workers = workers;
  cost.seconds = window;
  cost.binlog = raw.scalar("select @@log_bin") == "1";
  const double per_day = 86400.0 / window / workers;
  cost.commits = (after.commits - before->commits) * per_day;
  cost.redo_bytes = (after.redo - before->redo) * per_day;
  cost.binlog_bytes = (after.binlog - before->binlog) * per_day;
  cost.round_trips_per_worker_s = (after.questions - before->questions) / window / workers;
  std::fprintf(stderr,
               "bench: idle %s: %.0f commits, %.0f redo bytes, %.0f binlog bytes "
               "per worker per day\n",
               label.c_str(), cost.commits, cost.redo_bytes, cost.binlog_bytes);
  return cost;
}

}  // namespace

std::vector<IdleCost> runIdle(const Target& target, int workers, double seconds) {
  return {measure(target, workers, seconds, 0, "v25 heartbeat (every tick writes)"),
          measure(target, workers, seconds, std::nullopt, "v26 heartbeat (default interval)")};
}

}  // namespace bench
