// qtopology-worker's topologies under their supervisors, one worker on a
// private database: nothing of a topology outlives its worker (SIGKILL), its
// lease (SIGSTOP) or a stop; topologies see no credentials; a topology that
// floods its stderr into a slow stdout does not stall the heartbeat. The
// figures are printed as "[figures]" lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "cluster_fixture.hpp"

extern char** environ;

namespace qtopology::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

void figure(const std::string& name, const std::string& value) {
  std::cout << "[figures] " << name << ": " << value << std::endl;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The session of a running process, from /proc/PID/stat (-1 when gone).
long sessionOf(pid_t pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string state, ppid, pgrp, session;
  fields >> state >> ppid >> pgrp >> session;
  return session.empty() ? -1 : std::stol(session);
}

class SupervisionTest : public ClusterFixture {
 protected:
  void SetUp() override {
    ClusterFixture::SetUp();
    dir_ = ::testing::TempDir() + db_.name() + "-files";
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    for (auto& [name, child] : workers_) child->signal(SIGCONT);
    ClusterFixture::TearDown();
    std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  void runScript(const std::string& uuid, const std::string& script) {
    const Json config = {{"general", {{"command", {"/bin/sh", "-c", script}}}}};
    const auto r = cli({"register", uuid, "-"}, config.dump());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto e = cli({"enable", uuid});
    ASSERT_EQ(e.exit_code, 0) << e.err;
  }

  // A topology whose process starts a grandchild in a session of its own, one
  // that ignores SIGTERM and a plain one, writes its config file's path and
  // then waits: four processes at least, all with its QTOPOLOGY_UUID.
  void runTree(const std::string& uuid) {
    // The setsid one writes its own pid as /proc shows it ($! would be the
    // pid in the topology's PID namespace).
    runScript(uuid, "echo \"$QTOPOLOGY_CONFIG\" > " + path("config") +
                        "; setsid sh -c 'read -r p _ < /proc/self/stat; echo $p > " +
                        path("setsid.tmp") + "; mv " + path("setsid.tmp") + " " + path("setsid") +
                        "; exec sleep 300' & (trap '' TERM; exec sleep 301) & sleep 302 & wait");
  }

  std::vector<pid_t> processesOf(const std::string& uuid) {
    return processesOfThisTestWith("QTOPOLOGY_UUID=" + uuid);
  }

  std::string configFile() {
    std::string file = readFile(path("config"));
    if (!file.empty()) file.pop_back();
    return file;
  }

  TopologyStatus topology(const std::string& uuid) { return topologies().at(uuid); }

  std::string dir_;
};

// The worker is SIGKILLed: every process of its topology ends, also the one
// in another session and the one that ignores SIGTERM, and the config file
// goes.
TEST_F(SupervisionTest, WorkerSigkillLeavesNoProcessOfItsTopologiesNorTheirConfigFiles) {
  startWorker("w1");
  runTree("t1");
  ASSERT_TRUE(eventually(seconds(20), [&] { return runsAsChildOfItsWorker(topology("t1")); }));
  ASSERT_TRUE(eventually(seconds(5), [&] {
    return processesOf("t1").size() >= 4 && !readFile(path("setsid")).empty();
  }));
  const auto before = processesOf("t1");
  const pid_t away = static_cast<pid_t>(std::stol(readFile(path("setsid"))));
  EXPECT_EQ(sessionOf(away), away) << "the setsid grandchild leads a session of its own";
  const std::string config_file = configFile();
  ASSERT_TRUE(std::filesystem::exists(config_file)) << config_file;

  const auto killed_at = Clock::now();
  workers_.at("w1")->signal(SIGKILL);
  workers_.at("w1")->wait();
  double gone_s = -1;
  const bool gone = eventually(seconds(10), [&] {
    if (!processesOf("t1").empty() || std::filesystem::exists(config_file)) return false;
    gone_s = secondsSince(killed_at);
    return true;
  });
  const auto left = processesOf("t1");
  figure("worker SIGKILL: processes of its topology before", std::to_string(before.size()));
  figure("worker SIGKILL: processes left after", std::to_string(left.size()));
  figure("worker SIGKILL: tree and config file gone after (s)", std::to_string(gone_s));
  EXPECT_TRUE(gone) << left.size() << " processes left, config file "
                    << (std::filesystem::exists(config_file) ? "still there" : "gone");
}

// The worker is paused (SIGSTOP) past its lease: its topology's processes
// end at the lease, by their supervisor, while the worker can do nothing.
TEST_F(SupervisionTest, PausedWorkersTopologyEndsWithTheLease) {
  constexpr auto kLease = milliseconds(3500);  // startWorker's
  startWorker("w1");
  runTree("t1");
  ASSERT_TRUE(eventually(seconds(20), [&] { return runsAsChildOfItsWorker(topology("t1")); }));
  ASSERT_TRUE(eventually(seconds(5), [&] { return processesOf("t1").size() >= 4; }));
  const std::string config_file = configFile();

  const auto paused_at = Clock::now();
  workers_.at("w1")->signal(SIGSTOP);
  double gone_s = -1;
  const bool gone = eventually(kLease + seconds(5), [&] {
    if (!processesOf("t1").empty()) return false;
    gone_s = secondsSince(paused_at);
    return true;
  });
  figure("worker SIGSTOP: its topology's processes gone after (s)", std::to_string(gone_s));
  EXPECT_TRUE(gone) << processesOf("t1").size() << " processes outlived the lease";
  // At most a lease after the last heartbeat, which came before the pause.
  EXPECT_LE(gone_s, std::chrono::duration<double>(kLease).count() + 1.0);
  // Removed right after the last process went.
  EXPECT_TRUE(eventually(seconds(2), [&] { return !std::filesystem::exists(config_file); }));
  workers_.at("w1")->signal(SIGCONT);
}

// A stop reaches every process of the tree with SIGTERM, also those in
// another session, before the SIGKILL that follows the grace.
TEST_F(SupervisionTest, StopSendsSigtermToTheWholeTreeBeforeSigkill) {
  startWorker("w1", {"--grace-ms", "1500"});
  const std::string waiting = "while :; do sleep 0.1; done";
  runScript("t1", "trap 'echo main >> " + path("signals") +
                      "' TERM; setsid sh -c \"trap 'echo "
                      "away >> " +
                      path("signals") + "' TERM; " + waiting + "\" & echo up > " + path("up") +
                      "; " + waiting);
  ASSERT_TRUE(eventually(seconds(20), [&] { return runsAsChildOfItsWorker(topology("t1")); }));
  ASSERT_TRUE(eventually(seconds(5), [&] { return processesOf("t1").size() >= 2; }));
  const auto r = cli({"stop", "t1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(
      eventually(seconds(15), [&] { return topology("t1").status == TopologyState::unassigned; }));
  const std::string signals = readFile(path("signals"));
  // Both ignore SIGTERM (they only note it): the SIGKILL came after.
  EXPECT_NE(signals.find("main\n"), std::string::npos) << signals;
  EXPECT_NE(signals.find("away\n"), std::string::npos) << signals;
  EXPECT_TRUE(processesOf("t1").empty());
  EXPECT_EQ(topology("t1").error, std::nullopt);
}

// The worker takes its URL from the environment, beside a dashboard token
// and credentials of the operator's: the topology sees none of them, only
// what it needs. (QTOPOLOGY_MYSQL_PASSWORD_FILE is left to the runner's unit
// test: here the worker would use it.)
TEST_F(SupervisionTest, TopologiesGetNoCredentials) {
  const Environment env{{{"QTOPOLOGY_TEST_RUN", db_.name()},
                         {"QTOPOLOGY_MYSQL_URL", db_.url()},
                         {"QTOPOLOGY_DASHBOARD_TOKEN", "dashboard-token-secret"},
                         {"MYSQL_PWD", "mysql-pwd-secret"},
                         {"OPERATOR_API_TOKEN", "operator-token-secret"},
                         {"PASSED_TOKEN", "passed-on-purpose"},
                         {"PLAIN_SETTING", "kept"}},
                        {}};
  workers_["w1"] = std::make_unique<Child>(
      QTOPOLOGY_WORKER,
      std::vector<std::string>{"--name", "w1", "--leader-loop-ms", "1000", "--lease-ms", "3500",
                               "--pass-env", "PASSED_TOKEN"},
      logOf("w1"), env);
  runScript("t1", "env > " + path("env") + "; exec sleep 300");
  ASSERT_TRUE(eventually(seconds(20), [&] { return runsAsChildOfItsWorker(topology("t1")); }));
  ASSERT_TRUE(eventually(seconds(5), [&] {
    return readFile(path("env")).find("PLAIN_SETTING") != std::string::npos;
  }));
  const std::string seen = readFile(path("env"));
  const std::string url = db_.url();
  for (const std::string& secret :
       {url, std::string("dashboard-token-secret"), std::string("mysql-pwd-secret"),
        std::string("operator-token-secret"), std::string("QTOPOLOGY_MYSQL_"),
        std::string("QTOPOLOGY_DASHBOARD_")}) {
    EXPECT_EQ(seen.find(secret), std::string::npos) << secret << " reached the topology";
  }
  EXPECT_THAT(seen, HasSubstr("PLAIN_SETTING=kept"));
  EXPECT_THAT(seen, HasSubstr("PASSED_TOKEN=passed-on-purpose"));
  EXPECT_THAT(seen, HasSubstr("QTOPOLOGY_UUID=t1"));
  EXPECT_THAT(seen, HasSubstr("QTOPOLOGY_WORKER=w1"));
  EXPECT_THAT(seen, HasSubstr("QTOPOLOGY_CONFIG="));
  // Nor does the supervisor between them hold anything: its environment is
  // empty.
  const auto t = topology("t1");
  ASSERT_TRUE(t.pid.has_value());
  EXPECT_EQ(readFile("/proc/" + std::to_string(parentOf(*t.pid)) + "/environ"), "");
}

// The names in an `env` listing, sorted.
std::vector<std::string> variableNames(const std::string& listing) {
  std::vector<std::string> names;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    const auto equals = line.find('=');
    if (equals != std::string::npos && equals > 0) names.push_back(line.substr(0, equals));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : " ") + n;
  return all;
}

// What the deny-list let through before issue 28: keys, key ids, password
// files, the database's URL and URLs that carry a password.
TEST_F(SupervisionTest, TopologiesGetNoKeysPassfilesNorUrlsWithPasswords) {
  const Environment env{{{"QTOPOLOGY_TEST_RUN", db_.name()},
                         {"QTOPOLOGY_MYSQL_URL", db_.url()},
                         {"AWS_ACCESS_KEY_ID", "AKIA-key-id-secret"},
                         {"STRIPE_API_KEY", "sk-live-secret"},
                         {"PGPASSFILE", "/home/op/.pgpass-secret"},
                         {"DATABASE_URL", "postgres://db/app-secret"},
                         {"CACHE_URL", "redis://app:hunter2-secret@cache/0"},
                         {"PUBLIC_URL", "https://example.org/"},
                         {"PLAIN_SETTING", "kept"}},
                        {}};
  workers_["w1"] = std::make_unique<Child>(
      QTOPOLOGY_WORKER,
      std::vector<std::string>{"--name", "w1", "--leader-loop-ms", "1000", "--lease-ms", "3500"},
      logOf("w1"), env);
  runScript("t1", "env > " + path("env.tmp") + "; mv " + path("env.tmp") + " " + path("env") +
                      "; exec sleep 300");
  ASSERT_TRUE(eventually(seconds(20), [&] { return !readFile(path("env")).empty(); }))
      << readFile(logOf("w1"));
  const std::string seen = readFile(path("env"));
  EXPECT_EQ(seen.find("-secret"), std::string::npos) << seen;
  for (const char* name :
       {"AWS_ACCESS_KEY_ID", "STRIPE_API_KEY", "PGPASSFILE", "DATABASE_URL", "CACHE_URL"}) {
    EXPECT_THAT(variableNames(seen), ::testing::Not(::testing::Contains(name))) << name;
  }
  EXPECT_THAT(seen, HasSubstr("PUBLIC_URL=https://example.org/"));
  EXPECT_THAT(seen, HasSubstr("PLAIN_SETTING=kept"));
}

// --env-allow: the topology gets the base set, the named variables and the
// --pass-env ones, nothing else of the worker's environment.
TEST_F(SupervisionTest, WithAnAllowListTopologiesGetOnlyTheBaseSetAndTheNamedVariables) {
  const Environment env{{{"QTOPOLOGY_TEST_RUN", db_.name()},
                         {"QTOPOLOGY_MYSQL_URL", db_.url()},
                         {"LANG", "C.UTF-8"},
                         {"LC_TIME", "C"},
                         {"TZ", "UTC"},
                         {"NODE_PATH", "/opt/node_modules"},
                         {"APP_MODE", "fast"},
                         {"APP_REGION", "eu"},
                         {"REPORT_DIR", "/srv/reports"},
                         {"PASSED_TOKEN", "passed-on-purpose"},
                         {"PLAIN_SETTING", "not named"},
                         {"AWS_ACCESS_KEY_ID", "AKIA"}},
                        {}};
  workers_["w1"] = std::make_unique<Child>(
      QTOPOLOGY_WORKER,
      std::vector<std::string>{"--name", "w1", "--leader-loop-ms", "1000", "--lease-ms", "3500",
                               "--env-allow", "APP_*,REPORT_DIR", "--env-allow",
                               "MISSING,QTOPOLOGY_TEST_RUN", "--pass-env", "PASSED_TOKEN"},
      logOf("w1"), env);
  runScript("t1", "env > " + path("env.tmp") + "; mv " + path("env.tmp") + " " + path("env") +
                      "; exec sleep 300");
  ASSERT_TRUE(eventually(seconds(20), [&] { return !readFile(path("env")).empty(); }))
      << readFile(logOf("w1"));
  const std::string seen = readFile(path("env"));
  // The worker's own environment, less what the test unsets, is wider than
  // this: the base set that it has, the named ones, the worker's own
  // QTOPOLOGY_* for the topology; and what sh itself adds (PWD, SHLVL, _).
  std::vector<std::string> names = variableNames(seen);
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const std::string& n) {
                               return n == "PWD" || n == "SHLVL" || n == "_" || n == "OLDPWD";
                             }),
              names.end());
  std::vector<std::string> expected = {"APP_MODE",
                                       "APP_REGION",
                                       "LANG",
                                       "LC_TIME",
                                       "NODE_PATH",
                                       "PASSED_TOKEN",
                                       "QTOPOLOGY_CONFIG",
                                       "QTOPOLOGY_EPOCH",
                                       "QTOPOLOGY_TEST_RUN",
                                       "QTOPOLOGY_UUID",
                                       "QTOPOLOGY_WORKER",
                                       "REPORT_DIR",
                                       "TZ"};
  // The rest of the base set docs/worker.md lists, as far as the test's own
  // environment has it.
  const std::set<std::string> base = {"PATH",     "HOME", "USER",   "LOGNAME",   "SHELL",
                                      "LANGUAGE", "TZ",   "TMPDIR", "NODE_PATH", "LANG"};
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if ((base.count(name) || name.rfind("LC_", 0) == 0) &&
        std::find(expected.begin(), expected.end(), name) == expected.end()) {
      expected.push_back(name);
    }
  }
  std::sort(expected.begin(), expected.end());
  figure("environment with --env-allow APP_*,REPORT_DIR,MISSING,QTOPOLOGY_TEST_RUN", joined(names));
  EXPECT_EQ(names, expected) << seen;
  EXPECT_THAT(seen, HasSubstr("APP_MODE=fast"));
  EXPECT_THAT(seen, HasSubstr("PASSED_TOKEN=passed-on-purpose"));
}

// Reads a pipe slowly, as a lagging log shipper does: 1 KiB every 100 ms,
// slower than one topology's log limit, so that the pipe fills.
class SlowReader {
 public:
  explicit SlowReader(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~SlowReader() {
    stopping_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::size_t bytes() const { return bytes_.load(); }
  bool saw(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    return notes_.find(text) != std::string::npos;
  }

 private:
  void run() {
    char buffer[1024];
    while (!stopping_) {
      pollfd polled{fd_, POLLIN, 0};
      if (::poll(&polled, 1, 100) <= 0) continue;
      const auto n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) {
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
      bytes_ += static_cast<std::size_t>(n);
      partial_.append(buffer, static_cast<std::size_t>(n));
      {
        std::lock_guard<std::mutex> lock(mutex_);
        // Every whole line but the flood itself, for the checks.
        std::size_t newline;
        while ((newline = partial_.find('\n')) != std::string::npos) {
          const std::string line = partial_.substr(0, newline);
          partial_.erase(0, newline + 1);
          if (line.find("flooding") == std::string::npos) notes_ += line + "\n";
        }
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  const int fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> bytes_{0};
  std::mutex mutex_;
  std::string notes_;
  std::string partial_;  // the reader's own
  std::thread thread_;
};

// A topology floods its stderr (and ignores the stop's SIGTERM, so it floods
// through the grace) while the worker's stdout is a pipe read more slowly
// than even the limited log fills it. The worker's heartbeat keeps its
// cadence: last_ping, stored in whole seconds, is never older than two ticks
// plus that second; the stop works.
TEST_F(SupervisionTest, ChattyTopologyDoesNotStallTheHeartbeatOnASlowStdout) {
  constexpr auto kTick = milliseconds(1000);
  const std::string fifo = path("stdout.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int read_end = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(read_end, 0);
  SlowReader reader(read_end);
  const Environment marker{{{"QTOPOLOGY_TEST_RUN", db_.name()}}, {}};
  workers_["w1"] = std::make_unique<Child>(
      QTOPOLOGY_WORKER,
      std::vector<std::string>{"--name", "w1", "--url", db_.url(), "--tick-ms",
                               std::to_string(kTick.count()), "--leader-loop-ms", "1000",
                               "--lease-ms", "3500", "--grace-ms", "3000"},
      fifo, marker);
  runScript("t1",
            "trap '' TERM; while :; do echo 'flooding the worker with one line of stderr after "
            "another' >&2; done");
  ASSERT_TRUE(eventually(seconds(20), [&] { return runsAsChildOfItsWorker(topology("t1")); }));

  // The staleness of the worker's last_ping, sampled every 100 ms.
  double worst_s = 0;
  long samples = 0;
  const auto sample = [&] {
    const std::string micros = db_.scalar(
        "SELECT TIMESTAMPDIFF(MICROSECOND, last_ping, NOW(6)) FROM qtopology_worker "
        "WHERE name = 'w1'");
    worst_s = std::max(worst_s, std::stod(micros) / 1e6);
    ++samples;
  };
  const auto flood_until = Clock::now() + seconds(8);
  while (Clock::now() < flood_until) {
    sample();
    std::this_thread::sleep_for(milliseconds(100));
  }
  const auto stop_at = Clock::now();
  const auto r = cli({"stop", "t1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double stopped_s = -1;
  while (secondsSince(stop_at) < 20) {
    sample();
    if (topology("t1").status == TopologyState::unassigned && processesOf("t1").empty()) {
      stopped_s = secondsSince(stop_at);
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  for (int i = 0; i < 20; ++i) {  // and a while after
    sample();
    std::this_thread::sleep_for(milliseconds(100));
  }
  figure("chatty topology: worst last_ping staleness (s), tick 1 s, stored in whole seconds",
         std::to_string(worst_s) + " over " + std::to_string(samples) + " samples");
  figure("chatty topology: stopped after (s), grace 3 s", std::to_string(stopped_s));
  figure("chatty topology: bytes the slow reader got", std::to_string(reader.bytes()));
  EXPECT_LE(worst_s, 2 * std::chrono::duration<double>(kTick).count() + 1.0);
  EXPECT_GE(stopped_s, 0) << "the flooding topology was not stopped";
  EXPECT_TRUE(reader.saw("of stderr not logged: over the limit of"))
      << "the flood was rate-limited, and said so";
}

}  // namespace
}  // namespace qtopology::testing
