// Scenario: the server is SIGKILLed under load and restarted. Runs its own
// private mariadbd, since killing the shared one would break other tests.
#include <cppconn/connection.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "test_database.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class PrivateServer {
 public:
  explicit PrivateServer(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::remove_all(dir_);
    url_ = run("start");
  }
  ~PrivateServer() { run("stop"); }
  const std::string& url() const { return url_; }
  void restart() { run("start"); }
  void killHard() {
    std::ifstream pidfile(dir_ + "/mysqld.pid");
    pid_t pid = 0;
    pidfile >> pid;
    ASSERT_GT(pid, 0);
    ::kill(pid, SIGKILL);
    while (::kill(pid, 0) == 0) std::this_thread::sleep_for(10ms);
  }

 private:
  std::string run(const std::string& action) {
    // Never the shared server: this one is ours to kill.
    const std::string command = "env -u QTOPOLOGY_TEST_MYSQL_URL '" QTOPOLOGY_SOURCE_DIR
                                "/scripts/private-mariadb.sh' " +
                                action + " '" + dir_ + "'";
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[512];
      while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
      ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }
  std::string dir_;
  std::string url_;
};

long long ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

TEST(Stress, ServerKilledUnderLoadLosesNoAcknowledgedWrite) {
  PrivateServer server(QTOPOLOGY_STRESS_SCRATCH "/killed-server");
  ASSERT_FALSE(server.url().empty());
  auto options = MySqlOptions::fromUrl(server.url());
  std::unique_ptr<sql::Statement>(testing::connectRaw(options)->createStatement())
      ->execute("CREATE DATABASE qtopology_kill");
  options.database = "qtopology_kill";
  options.pool_size = 4;
  options.connect_timeout = 2s;
  options.read_timeout = 5s;  // retries and retry_timeout keep their defaults
  MySqlCoordinator storage(options);
  storage.registerWorker("w1");

  std::atomic<bool> stop{false};
  std::atomic<long> ok{0}, connection_errors{0}, other_errors{0};
  std::atomic<long long> longest_call_ms{0};
  std::mutex acked_mutex;
  std::set<std::string> acked_topologies;
  std::set<int> acked_messages;
  std::atomic<Clock::rep> last_success{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const auto start = Clock::now();
        try {
          if (t == 0) {
            const std::string uuid = "t-" + std::to_string(i);
            storage.registerTopology(uuid, {{"general", {{"weight", 1 + i % 3}}}});
            std::lock_guard<std::mutex> lock(acked_mutex);
            acked_topologies.insert(uuid);
          } else if (t == 1) {
            storage.sendMessageToWorker("w1", "work", {{"n", i}}, 3600s);
            std::lock_guard<std::mutex> lock(acked_mutex);
            acked_messages.insert(i);
          } else if (t == 2) {
            storage.pingWorker("w1");
          } else {
            storage.setWorkerStatus("w1", WorkerState::alive);
          }
          ++ok;
          last_success = Clock::now().time_since_epoch().count();
        } catch (const ConnectionError&) {
          ++connection_errors;
        } catch (const std::exception& e) {
          ++other_errors;
          std::printf("[stress] unexpected %s\n", e.what());
        }
        const auto took = ms(Clock::now() - start);
        long long seen = longest_call_ms;
        while (took > seen && !longest_call_ms.compare_exchange_weak(seen, took)) {
        }
      }
    });
  }
  std::this_thread::sleep_for(1s);
  const long ok_before_kill = ok;
  server.killHard();
  const auto killed_at = Clock::now();
  std::this_thread::sleep_for(3s);
  server.restart();
  const auto restarted_at = Clock::now();
  while (Clock::time_point(Clock::duration(last_success.load())) < restarted_at &&
         Clock::now() - restarted_at < 60s) {
    std::this_thread::sleep_for(10ms);
  }
  const auto recovered_at = Clock::time_point(Clock::duration(last_success.load()));
  std::this_thread::sleep_for(1s);
  stop = true;
  for (auto& t : load) t.join();

  // Every write acknowledged before, during and after the outage is there.
  std::set<std::string> topologies;
  for (const auto& t : storage.getTopologyStatus()) topologies.insert(t.uuid);
  std::set<int> messages;
  for (const auto& m : storage.getMsgQueueContent()) messages.insert(m.data["n"].get<int>());
  long missing_topologies = 0, missing_messages = 0;
  for (const auto& uuid : acked_topologies) missing_topologies += topologies.count(uuid) == 0;
  for (int n : acked_messages) missing_messages += messages.count(n) == 0;

  std::printf(
      "[stress] server killed: %ld calls ok before the kill, %ld in all; %ld "
      "ConnectionError, %ld other errors; server down %lld ms, first success %lld ms "
      "after restart (%lld ms after the kill); longest call %lld ms; acknowledged "
      "writes missing: %ld topologies of %zu, %ld messages of %zu\n",
      ok_before_kill, ok.load(), connection_errors.load(), other_errors.load(),
      ms(restarted_at - killed_at), ms(recovered_at - restarted_at), ms(recovered_at - killed_at),
      longest_call_ms.load(), missing_topologies, acked_topologies.size(), missing_messages,
      acked_messages.size());
  EXPECT_EQ(other_errors, 0);
  EXPECT_GT(ok.load(), ok_before_kill) << "the coordinator did not recover";
  EXPECT_GT(recovered_at, restarted_at);
  EXPECT_EQ(missing_topologies, 0);
  EXPECT_EQ(missing_messages, 0);
  // No hang: a call ends within its retry budget: every attempt bounded by the
  // connect and read timeouts, every wait by retry_timeout.
  const auto budget =
      options.retries * (options.retry_timeout + options.connect_timeout + options.read_timeout) +
      options.connect_timeout + options.read_timeout;
  EXPECT_LT(longest_call_ms.load(), ms(budget));
}

}  // namespace
}  // namespace qtopology
