#include "scenarios.hpp"

#include <qtopology/mysql_coordinator.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <thread>

namespace bench {
namespace {

using qtopology::MySqlCoordinator;
using qtopology::Leadership;
using qtopology::MySqlOptions;
using qtopology::TopologyState;

std::unique_ptr<MySqlCoordinator> coordinator(const Target& target, const std::string& database,
                                              std::size_t pool_size) {
  auto options = MySqlOptions::fromUrl(target.url_base + database);
  options.pool_size = pool_size;
  return std::make_unique<MySqlCoordinator>(options);
}

// Message keys and claim keys, as the library makes them: 32 hex digits.
std::string key() {
  thread_local std::mt19937_64 random(std::random_device{}());
  static const char digits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (auto& c : out) c = digits[random() % 16];
  return out;
}

// Rows made by SQL, so set-up takes seconds whatever the size; the sequence
// engine is built into MariaDB.
void addWorkers(RawClient& raw, int count, const std::string& prefix) {
  raw.query(
      "insert into qtopology_worker (name, status, lstatus, last_ping) "
      "select concat('" +
      prefix +
      "', lpad(seq, 5, '0')), 'alive', 'normal', now() "
      "from seq_1_to_" +
      std::to_string(count));
}

void addTopologies(RawClient& raw, int count, int workers, const std::string& worker_prefix) {
  raw.query(
      "insert into qtopology_topology (uuid, config, status, worker, weight, worker_affinity, "
      "last_ping, error, enabled, pid) "
      "select concat('topology-', lpad(seq, 6, '0')), '{\"general\":{\"weight\":1},"
      "\"spouts\":[],\"bolts\":[]}', 'running', concat('" +
      worker_prefix + "', lpad(1 + seq % " + std::to_string(workers) +
      ", 5, '0')), 1, '', now(), null, 1, null from seq_1_to_" + std::to_string(count));
}

// A topology definition of about 10 KiB, shaped like a real one.
qtopology::Json bigConfig() {
  qtopology::Json config = {
      {"general", {{"heartbeat", 1000}, {"weight", 2}, {"worker_affinity", {"w00001"}}}},
      {"spouts", qtopology::Json::array()},
      {"bolts", qtopology::Json::array()}};
  for (int i = 0; config.dump().size() < 10 * 1024; ++i) {
    config["bolts"].push_back(
        {{"name", "bolt" + std::to_string(i)},
         {"working_dir", "."},
         {"type", "inproc"},
         {"cmd", "filter"},
         {"inputs", {{{"source", "pump"}, {"stream_id", "s" + std::to_string(i)}}}},
         {"init", {{"filter", {{"type", "a"}, {"limit", i}}}}}});
  }
  return config;
}

std::string callText(const std::string& procedure, int args) {
  std::string text = "CALL qtopology_sp_" + procedure + "(";
  for (int i = 0; i < args; ++i) text += i == 0 ? "?" : ", ?";
  return text + ")";
}

// Alternating short blocks, so drift of the server (history tables growing,
// the disk's flush times) and bursts of other work on a shared machine hit
// both sides alike.
struct PairSpec {
  std::string key;
  std::string label;
  int iterations;
  std::function<void(int)> ours_setup, ours;
  std::function<void(int)> floor_setup, floor;
};

OpResult runPair(const PairSpec& spec) {
  constexpr int kPerBlock = 10;
  const int warmup = std::max(5, spec.iterations / 20);
  for (int i = 0; i < warmup; ++i) {
    if (spec.ours_setup) spec.ours_setup(i);
    spec.ours(i);
    if (spec.floor_setup) spec.floor_setup(i);
    spec.floor(i);
  }
  Recorder ours;
  Recorder floor;
  int i = warmup;
  for (int block = 0; block < std::max(1, spec.iterations / kPerBlock); ++block) {
    const int per_block = std::min(kPerBlock, spec.iterations);
    for (int k = 0; k < per_block; ++k, ++i) {
      if (spec.floor_setup) spec.floor_setup(i);
      floor.add(timed([&] { spec.floor(i); }));
    }
    for (int k = 0; k < per_block; ++k, ++i) {
      if (spec.ours_setup) spec.ours_setup(i);
      ours.add(timed([&] { spec.ours(i); }));
    }
  }
  return {spec.key, spec.label, ours.serial(), floor.serial()};
}

int scaled(int n, double scale) { return std::max(10, static_cast<int>(n * scale)); }

}  // namespace

void recreateDatabase(const Target& target, const std::string& name) {
  RawClient admin(target.address, "");
  admin.query("drop database if exists `" + name + "`; create database `" + name +
              "` character set utf8mb4");
}

std::vector<OpResult> runPerCall(const Target& target, double scale, const std::string& filter) {
  std::vector<OpResult> results;

  recreateDatabase(target, "qb_ops");
  recreateDatabase(target, "qb_w1000");
  recreateDatabase(target, "qb_t10000");
  auto ops = coordinator(target, "qb_ops", 1);
  auto w1000 = coordinator(target, "qb_w1000", 1);
  auto t10000 = coordinator(target, "qb_t10000", 1);
  RawClient raw_ops(target.address, "qb_ops");
  RawClient raw_w1000(target.address, "qb_w1000");
  RawClient raw_t10000(target.address, "qb_t10000");
  addWorkers(raw_ops, 10, "w");
  addWorkers(raw_w1000, 1000, "w");
  addWorkers(raw_t10000, 10, "w");
  addTopologies(raw_t10000, 10000, 10, "w");
  ops->registerTopology("t-status", {{"general", {{"weight", 1}}}});
  ops->assignTopology("t-status", "w00001");

  const std::string ping = callText("worker_ping", 1);
  const std::string take = callText("take_messages", 3);
  const std::string send = callText("send_message", 5);
  const std::string workers = callText("workers", 0);
  const std::string topologies = callText("topologies", 0);
  const std::string reg = callText("register_topology", 4);
  const std::string status = callText("set_topology_status", 4);
  const std::string announce = callText("announce_leader_candidacy", 1);
  const std::string check = callText("check_leader_candidacy", 1);

  const auto config = bigConfig();
  const std::string config_text = config.dump();
  const qtopology::Json content = {{"uuid", "topology-000001"}};
  const std::string content_text = content.dump();
  const auto uuid = [](int i) { return "t-reg-" + std::to_string(i % 16); };

  std::vector<PairSpec> specs;
  specs.push_back({"ping", "pingWorker", scaled(1000, scale), nullptr,
                   [&](int) { ops->pingWorker("w00001"); }, nullptr,
                   [&](int) { raw_ops.call(ping, {std::string("w00001")}); }});
  specs.push_back({"get_message_empty", "getMessage (empty queue)", scaled(1000, scale), nullptr,
                   [&](int) { ops->getMessage("w00002"); }, nullptr,
                   [&](int) {
                     raw_ops.call(take, {std::string("w00002"), key(), 1LL});
                   }});
  specs.push_back({"get_message_one", "getMessage (1 message)", scaled(1000, scale),
                   [&](int) {
                     ops->sendMessageToWorker("w00003", "stop_topology", content,
                                              std::chrono::seconds(60));
                   },
                   [&](int) {
                     if (!ops->getMessage("w00003"))
                       throw std::runtime_error("getMessage: no message");
                   },
                   [&](int) {
                     raw_ops.call(send, {std::string("w00003"), std::string("stop_topology"),
                                         content_text, 60000LL, key()});
                   },
                   [&](int) {
                     if (raw_ops.call(take, {std::string("w00003"), key(), 1LL}) != 1) {
                       throw std::runtime_error("take_messages: no message");
                     }
                   }});
  specs.push_back({"worker_status_10", "getWorkerStatus (10 workers)", scaled(1000, scale), nullptr,
                   [&](int) { ops->getWorkerStatus(); }, nullptr,
                   [&](int) { raw_ops.call(workers, {}); }});
  specs.push_back({"worker_status_1000", "getWorkerStatus (1,000 workers)", scaled(300, scale),
                   nullptr, [&](int) { w1000->getWorkerStatus(); }, nullptr,
                   [&](int) { raw_w1000.call(workers, {}); }});
  specs.push_back({"topology_status_10000", "getTopologyStatus (10,000 topologies)",
                   scaled(60, scale), nullptr, [&](int) { t10000->getTopologyStatus(); }, nullptr,
                   [&](int) { raw_t10000.call(topologies, {}); }});
  specs.push_back({"register_topology", "registerTopology (10 KiB config)", scaled(500, scale),
                   nullptr, [&](int i) { ops->registerTopology(uuid(i), config); }, nullptr,
                   [&](int i) {
                     raw_ops.call(reg, {uuid(i), config_text, 2.0, std::string("w00001")});
                   }});
  specs.push_back({"set_topology_status", "setTopologyStatus", scaled(1000, scale), nullptr,
                   [&](int) {
                     ops->setTopologyStatus({"t-status", "w00001", TopologyState::running, {}});
                   },
                   nullptr,
                   [&](int) {
                     raw_ops.call(status, {std::string("t-status"), std::string("w00001"),
                                           std::string("running"), std::monostate{}});
                   }});
  // Each pair is a won election: the worker steps down first (untimed), as
  // the Node package's sitting leader would on its next check anyway.
  const std::string lstatus = callText("set_worker_lstatus", 2);
  specs.push_back({"leadership", "announce + checkLeaderCandidacy (2 calls, won election)",
                   scaled(500, scale),
                   [&](int) { ops->setWorkerLStatus("w00004", Leadership::normal); },
                   [&](int) {
                     ops->announceLeaderCandidacy("w00004");
                     if (!ops->checkLeaderCandidacy("w00004"))
                       throw std::runtime_error("not leader");
                   },
                   [&](int) {
                     raw_ops.call(lstatus, {std::string("w00004"), std::string("normal")});
                   },
                   [&](int) {
                     raw_ops.call(announce, {std::string("w00004")});
                     if (raw_ops.call(check, {std::string("w00004")}) != 1) {
                       throw std::runtime_error("check_leader_candidacy: no row");
                     }
                   }});
  for (const auto& spec : specs) {
    if (spec.key.find(filter) != std::string::npos) results.push_back(runPair(spec));
  }
  return results;
}

std::vector<ConcurrencyResult> runConcurrency(const Target& target, double seconds) {
  recreateDatabase(target, "qb_conc");
  coordinator(target, "qb_conc", 1);  // migrates
  {
    RawClient raw(target.address, "qb_conc");
    addWorkers(raw, 16, "w");
  }
  const std::string ping = callText("worker_ping", 1);
  const std::string workers = callText("workers", 0);

  std::vector<ConcurrencyResult> results;
  for (const std::string op : {"pingWorker", "getWorkerStatus"}) {
    for (int threads : {1, 2, 4, 8, 16}) {
      ConcurrencyResult result{op, threads, {}, {}};
      for (int side = 0; side < 2; ++side) {
        const bool ours = side == 0;
        auto shared = ours ? coordinator(target, "qb_conc", threads) : nullptr;
        std::vector<std::unique_ptr<RawClient>> raw;
        for (int t = 0; !ours && t < threads; ++t) {
          raw.push_back(std::make_unique<RawClient>(target.address, "qb_conc"));
        }
        std::vector<Recorder> recorders(threads);
        std::atomic<bool> go{false};
        std::atomic<bool> stop{false};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
          pool.emplace_back([&, t] {
            char name[16];
            std::snprintf(name, sizeof name, "w%05d", t + 1);
            const std::string worker = name;
            while (!go) std::this_thread::yield();
            bool measuring = false;
            while (!stop) {
              const auto d = timed([&] {
                if (ours && op == "pingWorker") shared->pingWorker(worker);
                if (ours && op != "pingWorker") shared->getWorkerStatus();
                if (!ours && op == "pingWorker") raw[t]->call(ping, {worker});
                if (!ours && op != "pingWorker") raw[t]->call(workers, {});
              });
              if (measuring) recorders[t].add(d);
              measuring = true;  // the first call of each thread opens its connection
            }
          });
        }
        go = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const auto start = Clock::now();
        for (auto& r : recorders) (void)r;
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
        stop = true;
        const double wall = std::chrono::duration<double>(Clock::now() - start).count() + 0.2;
        for (auto& th : pool) th.join();
        Recorder all;
        for (auto& r : recorders) all.merge(r);
        (ours ? result.ours : result.floor) = all.over(wall);
      }
      results.push_back(result);
    }
  }
  return results;
}

StartupResult runStartup(const Target& target) {
  constexpr int kRuns = 3;
  std::vector<double> migrate;
  std::vector<double> construct;
  for (int i = 0; i < kRuns; ++i) {
    const std::string db = "qb_startup_" + std::to_string(i);
    recreateDatabase(target, db);
    migrate.push_back(std::chrono::duration<double, std::milli>(timed([&] {
                        coordinator(target, db, 1);
                      })).count());
    construct.push_back(std::chrono::duration<double, std::milli>(timed([&] {
                          coordinator(target, db, 1);
                        })).count());
  }
  std::sort(migrate.begin(), migrate.end());
  std::sort(construct.begin(), construct.end());
  return {migrate[kRuns / 2], construct[kRuns / 2]};
}

}  // namespace bench
