// The library on a three-node MariaDB Galera cluster: elections, message
// delivery and migrations with clients on different nodes, and a node killed
// under load. Each test prints its figures on a "[figures]" line.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <qtopology/mysql_coordinator.hpp>

#include "cluster.hpp"
#include "test_database.hpp"
#include "test_thread.hpp"

namespace qtopology::galera {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Retries are expected here by the thousand; their warnings would drown the
// output.
class QuietLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) noexcept override {}
  bool enabled(LogLevel) const noexcept override { return false; }
};

std::shared_ptr<Logger> quietLogger() {
  static const auto logger = std::make_shared<QuietLogger>();
  return logger;
}

std::unique_ptr<MySqlCoordinator> coordinator(MySqlOptions options) {
  options.logger = quietLogger();
  return std::make_unique<MySqlCoordinator>(std::move(options));
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Collects the first exception of any thread, for the main thread to report.
class Failures {
 public:
  void add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (count_++ == 0) first_ = what;
  }
  int count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }
  std::string first() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_;
  }

 private:
  mutable std::mutex mutex_;
  int count_ = 0;
  std::string first_;
};

TEST(GaleraCluster, ReadsSeeWritesCommittedOnAnotherNode) {
  ClusterDatabase db;
  auto writer = coordinator(db.nodeOptions(0));
  auto reader1 = coordinator(db.nodeOptions(1));
  auto reader2 = coordinator(db.nodeOptions(2));
  constexpr int kTopologies = 300;
  for (int i = 0; i < kTopologies; ++i) {
    const std::string uuid = "t" + std::to_string(i);
    writer->registerTopology(uuid, Json{{"general", {{"weight", i + 1}}}});
    // Without wsrep_sync_wait this read may run before node 1 or 2 applied
    // the write, and throw NotFoundError.
    auto& reader = i % 2 ? reader1 : reader2;
    ASSERT_EQ(reader->getTopologyInfo(uuid).weight, i + 1) << uuid;
  }
}

TEST(GaleraCluster, UrlWithSeveralHostsSkipsAnUnreachableOne) {
  ClusterDatabase db;
  // Port 1 on loopback refuses at once; the pool goes on to the next host.
  std::string hosts = "127.0.0.1:1";
  for (int node = 0; node < kNodes; ++node) {
    const auto o = MySqlOptions::fromUrl(nodeUrls()[node]);
    hosts += "," + o.host + ":" + std::to_string(o.port);
  }
  auto options = MySqlOptions::fromUrl("mysql://qtopology:qtopology@" + hosts + "/" + db.name());
  ASSERT_EQ(options.hosts.size(), 4u);
  options.connect_timeout = std::chrono::seconds(2);
  auto storage = coordinator(options);
  storage->registerWorker("w");
  EXPECT_EQ(storage->getWorkerStatus().size(), 1u);
}

TEST(GaleraElection, NeverTwoLeadersOver300ContestedRounds) {
  constexpr int kCoordinators = 8;
  constexpr int kRounds = 300;
  ClusterDatabase db;
  std::vector<std::unique_ptr<MySqlCoordinator>> workers;
  std::vector<std::string> names;
  for (int i = 0; i < kCoordinators; ++i) {
    workers.push_back(coordinator(db.nodeOptions(i % kNodes)));
    names.push_back("worker-" + std::to_string(i));
    workers.back()->registerWorker(names.back());
  }

  // Samples the leaders as every node sees them, all through the rounds.
  std::atomic<bool> done{false};
  std::atomic<long> samples{0};
  std::atomic<long> two_leader_samples{0};
  Failures failures;
  std::thread sampler = testing::testThread([&] {
    try {
      while (!done) {
        for (int node = 0; node < kNodes; ++node) {
          const auto leaders = std::stoi(
              db.scalar(node, "SELECT COUNT(*) FROM qtopology_worker WHERE lstatus = 'leader'"));
          ++samples;
          if (leaders > 1) ++two_leader_samples;
        }
      }
    } catch (const std::exception& e) {
      failures.add(std::string("sampler: ") + e.what());
    }
  });

  int rounds_with_leader = 0;
  int max_winners = 0;
  const auto start = Clock::now();
  for (int round = 0; round < kRounds && failures.count() == 0; ++round) {
    std::vector<char> won(kCoordinators, 0);
    std::vector<std::thread> campaign;
    for (int i = 0; i < kCoordinators; ++i) {
      campaign.push_back(testing::testThread([&, i] {
        try {
          workers[i]->pingWorker(names[i]);
          workers[i]->announceLeaderCandidacy(names[i]);
          won[i] = workers[i]->checkLeaderCandidacy(names[i]);
        } catch (const std::exception& e) {
          failures.add(names[i] + ": " + e.what());
        }
      }));
    }
    for (auto& t : campaign) t.join();
    const int winners = static_cast<int>(std::count(won.begin(), won.end(), 1));
    max_winners = std::max(max_winners, winners);
    ASSERT_LE(winners, 1) << "round " << round;
    if (winners == 0) continue;
    ++rounds_with_leader;
    const int leader = static_cast<int>(std::find(won.begin(), won.end(), 1) - won.begin());
    // Another node agrees at once on who leads.
    const auto statuses = workers[(leader + 1) % kCoordinators]->getWorkerStatus();
    for (const auto& w : statuses) {
      EXPECT_EQ(w.lstatus == Leadership::leader, w.name == names[leader])
          << "round " << round << ": " << w.name << " is " << w.lstatus;
    }
    // Resign, so that the next round is contested again.
    workers[leader]->setWorkerLStatus(names[leader], Leadership::normal);
  }
  const auto elapsed = Clock::now() - start;
  done = true;
  sampler.join();
  EXPECT_EQ(failures.count(), 0) << failures.first();
  EXPECT_EQ(two_leader_samples, 0);
  EXPECT_LE(max_winners, 1);
  EXPECT_GT(rounds_with_leader, kRounds / 2);
  std::printf(
      "[figures] elections: %d coordinators on 3 nodes, %d rounds in %.1f s, %d with a "
      "leader, at most %d winner(s) per round; %ld samples of all nodes, %ld with two "
      "leaders\n",
      kCoordinators, kRounds, seconds(elapsed), rounds_with_leader, max_winners, samples.load(),
      two_leader_samples.load());
}

TEST(GaleraMessages, FourReadersOnThreeNodesGetEveryMessageOnce) {
  constexpr int kMessages = 20000;
  constexpr int kSenders = 4;
  constexpr int kReaders = 4;
  ClusterDatabase db;
  const std::string worker = "receiver";
  std::vector<std::unique_ptr<MySqlCoordinator>> senders;
  std::vector<std::unique_ptr<MySqlCoordinator>> readers;
  for (int i = 0; i < kSenders; ++i) senders.push_back(coordinator(db.nodeOptions(i % kNodes)));
  for (int i = 0; i < kReaders; ++i) {
    readers.push_back(coordinator(db.nodeOptions((i + 1) % kNodes)));
  }
  senders[0]->registerWorker(worker);

  std::vector<std::atomic<int>> received(kMessages);
  std::atomic<int> total{0};
  std::atomic<int> senders_left{kSenders};
  std::atomic<int> order_violations{0};
  std::atomic<int> gave_up{0};
  Failures failures;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < kSenders; ++s) {
    threads.push_back(testing::testThread([&, s] {
      try {
        for (int seq = s; seq < kMessages; seq += kSenders) {
          senders[s]->sendMessageToWorker(worker, "seq", Json{{"seq", seq}}, 10min);
        }
      } catch (const std::exception& e) {
        failures.add(std::string("sender: ") + e.what());
      }
      --senders_left;
    }));
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.push_back(testing::testThread([&, r] {
      // Per sender, one reader gets that sender's messages in send order.
      std::vector<int> last_seq(kSenders, -1);
      auto take = [&](const StorageMessage& m) {
        const int seq = m.content.at("seq").get<int>();
        if (seq < last_seq[seq % kSenders]) {
          if (order_violations++ < 5) {
            std::printf("order: reader %d got %d after %d\n", r, seq, last_seq[seq % kSenders]);
          }
        }
        last_seq[seq % kSenders] = seq;
        received[seq]++;
        ++total;
      };
      auto last_progress = Clock::now();
      try {
        while (total < kMessages && failures.count() == 0) {
          int got = 0;
          try {
            if (r % 2 == 0) {
              for (const auto& m : readers[r]->getMessages(worker)) {
                take(m);
                ++got;
              }
            } else if (auto m = readers[r]->getMessage(worker)) {
              take(*m);
              ++got;
            }
          } catch (const StorageError& e) {
            if (std::string(e.what()).find("server error 1213") == std::string::npos) throw;
            ++gave_up;  // rolled back: nothing was taken
          }
          if (got > 0) {
            last_progress = Clock::now();
          } else if (senders_left == 0 && Clock::now() - last_progress > 30s) {
            break;  // nothing more comes: the rest is lost
          } else {
            std::this_thread::sleep_for(5ms);
          }
        }
      } catch (const std::exception& e) {
        failures.add(std::string("reader: ") + e.what());
      }
    }));
  }
  for (auto& t : threads) t.join();
  const auto elapsed = Clock::now() - start;

  int lost = 0;
  int duplicated = 0;
  for (const auto& count : received) {
    if (count == 0) ++lost;
    if (count > 1) ++duplicated;
  }
  EXPECT_EQ(failures.count(), 0) << failures.first();
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicated, 0);
  // Not asserted: on Galera a claim-all reader occasionally gets one
  // sender's messages out of order (about 1 in 10,000 here); see the report.
  for (int node = 0; node < kNodes; ++node) {
    EXPECT_EQ(db.scalar(node, "SELECT COUNT(*) FROM qtopology_message WHERE claimed_by IS NULL"),
              "0")
        << "node " << node;
  }
  std::printf(
      "[figures] messages: %d sent by %d senders, %d readers on 3 nodes, %d received "
      "in %.1f s; %d duplicated, %d lost, %d out of order; %d reads gave up on conflicts\n",
      kMessages, kSenders, kReaders, total.load(), seconds(elapsed), duplicated, lost,
      order_violations.load(), gave_up.load());
}

struct ProcessResult {
  int status;
  std::string output;
};

TEST(GaleraMigration, FourProcessesOnThreeNodesApplyEachFileOnce) {
  constexpr int kProcesses = 4;
  constexpr int kAttempts = 3;  // fresh databases, to give the race more chances
  const int latest = MySqlCoordinator::latestSchemaVersion();
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ClusterDatabase db;
    std::vector<FILE*> processes;
    const auto start = Clock::now();
    for (int p = 0; p < kProcesses; ++p) {
      const std::string command =
          std::string(QTOPOLOGY_CONSTRUCT_COORDINATOR) + " '" + db.url(p % kNodes) + "' 2>&1";
      processes.push_back(popen(command.c_str(), "r"));
      ASSERT_NE(processes.back(), nullptr);
    }
    std::vector<ProcessResult> results;
    for (FILE* process : processes) {
      std::string output;
      char buffer[512];
      while (std::fgets(buffer, sizeof buffer, process)) output += buffer;
      results.push_back({pclose(process), output});
    }
    const auto elapsed = Clock::now() - start;
    // Each process logs the files it applies, and prints the version last.
    std::map<std::string, int> applied;
    for (const auto& result : results) {
      EXPECT_EQ(result.status, 0) << result.output;
      const std::string last_line = std::to_string(latest) + "\n";
      EXPECT_TRUE(result.output.size() >= last_line.size() &&
                  result.output.compare(result.output.size() - last_line.size(), last_line.size(),
                                        last_line) == 0)
          << result.output;
      for (auto at = result.output.find("applying "); at != std::string::npos;
           at = result.output.find("applying ", at + 1)) {
        applied[result.output.substr(at + 9, result.output.find(' ', at + 9) - at - 9)]++;
      }
    }
    const long files = static_cast<long>(qtopology::testing::freshUpgradeCount());
    EXPECT_EQ(static_cast<long>(applied.size()), files);
    for (const auto& [file, times] : applied) EXPECT_EQ(times, 1) << file;
    std::string routines_on_node0;
    for (int node = 0; node < kNodes; ++node) {
      SCOPED_TRACE("attempt " + std::to_string(attempt) + ", node " + std::to_string(node));
      EXPECT_EQ(db.scalar(node, "SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
                std::to_string(latest));
      EXPECT_EQ(db.scalar(node,
                          "SELECT COUNT(*) FROM qtopology_settings "
                          "WHERE name LIKE 'schema\\_file:%'"),
                std::to_string(files));
      EXPECT_EQ(db.scalar(node,
                          "SELECT COUNT(DISTINCT name) FROM qtopology_settings "
                          "WHERE name LIKE 'schema\\_file:%'"),
                std::to_string(files));
      EXPECT_EQ(db.scalar(node,
                          "SELECT COUNT(*) FROM qtopology_settings "
                          "WHERE name = 'migration_lock'"),
                "0");
      EXPECT_EQ(db.scalar(node,
                          "SELECT COUNT(*) FROM information_schema.tables WHERE "
                          "table_schema = DATABASE() AND table_name LIKE 'qtopology\\_%'"),
                "6");
      const auto routines =
          db.scalar(node,
                    "SELECT GROUP_CONCAT(routine_name ORDER BY routine_name) FROM "
                    "information_schema.routines WHERE routine_schema = DATABASE()");
      if (node == 0) routines_on_node0 = routines;
      EXPECT_EQ(routines, routines_on_node0);
      EXPECT_NE(routines.find("qtopology_sp_take_messages"), std::string::npos);
    }
    // Every node passes the library's own schema check.
    for (int node = 0; node < kNodes; ++node) {
      auto options = db.nodeOptions(node);
      options.db_check_only = true;
      EXPECT_EQ(coordinator(options)->schemaVersion(), latest);
    }
    std::printf(
        "[figures] migration %d: %d processes on 3 nodes, empty to v%d in %.1f s, each "
        "of %ld files applied once on every node\n",
        attempt + 1, kProcesses, latest, seconds(elapsed), files);
  }
}

// One writer thread of the failover test: sends numbered messages and notes
// which ones the library acknowledged, and when.
struct Writer {
  int client = 0;
  std::vector<int> acknowledged;
  std::vector<Clock::time_point> acknowledged_at;
};

TEST(GaleraFailover, NodeKilledUnderLoadLosesNoAcknowledgedWrite) {
  constexpr int kClients = 3;
  constexpr int kThreadsPerClient = 2;
  constexpr int kVictim = 1;
  ClusterDatabase db;
  const std::string worker = "failover";
  coordinator(db.nodeOptions(0))->registerWorker(worker);
  // Every client lists all three nodes, starting with its own.
  std::vector<std::unique_ptr<MySqlCoordinator>> clients;
  for (int c = 0; c < kClients; ++c) {
    auto options = db.clusterOptions(c);
    options.pool_size = kThreadsPerClient;
    clients.push_back(coordinator(options));
  }

  std::atomic<bool> stop{false};
  Failures failures;
  std::vector<Writer> writers(kClients * kThreadsPerClient);
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < writers.size(); ++w) {
    writers[w].client = static_cast<int>(w) / kThreadsPerClient;
    threads.push_back(testing::testThread([&, w] {
      Writer& me = writers[w];
      for (int i = 0; !stop; ++i) {
        const int seq = static_cast<int>(w) * 1000000 + i;
        try {
          clients[me.client]->sendMessageToWorker(worker, "seq", Json{{"seq", seq}}, 30min);
          me.acknowledged.push_back(seq);
          me.acknowledged_at.push_back(Clock::now());
        } catch (const std::exception& e) {
          failures.add("client " + std::to_string(me.client) + ": " + e.what());
        }
      }
    }));
  }
  std::this_thread::sleep_for(3s);
  const auto kill_started = Clock::now();
  clusterScript("kill", kVictim);
  const auto killed_at = Clock::now();
  std::this_thread::sleep_for(12s);
  stop = true;
  for (auto& t : threads) t.join();

  // Failover time: a writer's longest wait between two acknowledged writes
  // from the moment the kill was ordered.
  double victim_failover = 0;
  double survivor_stall = 0;
  std::size_t acknowledged = 0;
  for (const auto& w : writers) {
    acknowledged += w.acknowledged.size();
    auto previous = killed_at;
    const auto first =
        std::lower_bound(w.acknowledged_at.begin(), w.acknowledged_at.end(), killed_at);
    ASSERT_NE(first, w.acknowledged_at.end()) << "client " << w.client << " stopped writing";
    double longest = 0;
    for (auto at = first; at != w.acknowledged_at.end(); ++at) {
      longest = std::max(longest, seconds(*at - previous));
      previous = *at;
    }
    auto& worst = w.client == kVictim ? victim_failover : survivor_stall;
    worst = std::max(worst, longest);
  }
  EXPECT_EQ(failures.count(), 0) << failures.first();

  auto checkAll = [&](int node) {
    SCOPED_TRACE("node " + std::to_string(node));
    std::set<int> stored;
    long long rows = 0;
    for (const auto& seq : db.column(node,
                                     "SELECT JSON_VALUE(content, '$.seq') FROM "
                                     "qtopology_message WHERE worker = 'failover'")) {
      stored.insert(std::stoi(seq));
      ++rows;
    }
    std::size_t missing = 0;
    for (const auto& w : writers) {
      for (int seq : w.acknowledged) missing += stored.count(seq) == 0;
    }
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(rows, static_cast<long long>(stored.size())) << "duplicated messages";
    return missing;
  };
  std::size_t lost = 0;
  for (int node = 0; node < kNodes; ++node) {
    if (node != kVictim) lost += checkAll(node);
  }

  const auto rejoin_start = Clock::now();
  clusterScript("rejoin", kVictim);
  const auto rejoin_time = Clock::now() - rejoin_start;
  db.reconnect(kVictim);
  EXPECT_EQ(db.scalar(kVictim,
                      "SELECT variable_value FROM information_schema.global_status "
                      "WHERE variable_name = 'wsrep_cluster_size'"),
            "3");
  lost += checkAll(kVictim);
  // The clients go on after the node is back.
  for (auto& client : clients) client->pingWorker(worker);

  std::printf(
      "[figures] failover: %zu writes acknowledged by %d clients (%d threads), node %d "
      "killed (%.2f s to kill); longest wait for a write after it: %.2f s on clients of that node, "
      "%.2f s on the others; %zu acknowledged writes missing; %d errors seen by callers; rejoin "
      "took "
      "%.1f s\n",
      acknowledged, kClients, kClients * kThreadsPerClient, kVictim + 1,
      seconds(killed_at - kill_started), victim_failover, survivor_stall, lost, failures.count(),
      seconds(rejoin_time));
}

}  // namespace
}  // namespace qtopology::galera
