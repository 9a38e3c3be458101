// ProcessRunner against real child processes (/bin/sh scripts) under the
// real qtopology-supervisor: what the child gets, how its end is reported,
// stop and kill of its whole tree, the lease held beside it, and that its
// processes die with the process that runs them. No database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "process.hpp"
#include "process_runner.hpp"
#include "topology_config.hpp"

namespace qtopology::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using worker::ProcessRunner;

worker::ProcessRunnerOptions options(const std::string& worker, std::chrono::milliseconds grace) {
  worker::ProcessRunnerOptions o;
  o.worker = worker;
  o.grace = grace;
  o.supervisor = QTOPOLOGY_SUPERVISOR;
  return o;
}

Json shell(const std::string& script) {
  return {{"general", {{"command", {"/bin/sh", "-c", script}}}}};
}

// The pids a script wrote to a file, one a line.
std::vector<pid_t> pidsIn(const std::string& path) {
  std::vector<pid_t> out;
  std::istringstream lines(readFile(path));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(static_cast<pid_t>(std::stol(line)));
  }
  return out;
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

bool noneAlive(const std::vector<pid_t>& pids) {
  for (const pid_t pid : pids) {
    if (processAlive(pid)) return false;
  }
  return true;
}

// A script that starts, beside its own process, one grandchild in a session
// of its own and one that ignores SIGTERM, writes their pids (its own first)
// to `pids` and then waits.
std::string treeScript(const std::string& pids) {
  return "echo $$ > " + pids + "; setsid sleep 300 & echo $! >> " + pids +
         "; (trap '' TERM; exec sleep 301) & echo $! >> " + pids + "; wait";
}

class ProcessRunnerTest : public ::testing::Test {
 protected:
  ProcessRunnerTest() {
    dir_ = ::testing::TempDir() + "process-runner-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    runner_ = makeRunner(std::chrono::milliseconds(5000));
  }
  ~ProcessRunnerTest() override {
    runner_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<ProcessRunner> makeRunner(std::chrono::milliseconds grace) {
    auto runner = std::make_unique<ProcessRunner>(options("test-worker", grace));
    runner->setExitCallback([this](TopologyExit exit) {
      std::lock_guard<std::mutex> lock(mutex_);
      exits_.push_back(std::move(exit));
      changed_.notify_all();
    });
    return runner;
  }

  std::optional<TopologyExit> nextExit(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return !exits_.empty(); })) return std::nullopt;
    auto exit = std::move(exits_.front());
    exits_.pop_front();
    return exit;
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Starts a shell loop that runs `on_term` on SIGTERM, once it is ready
  // for the signal; returns its pid.
  int startTrappingSigterm(const std::string& on_term) {
    const auto pid =
        runner_->start({"t-1", shell("trap '" + on_term + "' TERM; echo ready > " + path("ready") +
                                     "; while :; do sleep 0.05; done")});
    EXPECT_TRUE(
        eventually(std::chrono::seconds(5), [&] { return !readFile(path("ready")).empty(); }));
    return pid.value();
  }

  std::string dir_;
  std::unique_ptr<ProcessRunner> runner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<TopologyExit> exits_;
};

TEST_F(ProcessRunnerTest, ChildGetsItsEnvironmentAndConfigAndExitZeroIsClean) {
  auto config =
      shell("echo \"$QTOPOLOGY_UUID $QTOPOLOGY_WORKER\" > " + path("env") +
            "; cat \"$QTOPOLOGY_CONFIG\" > " + path("config") + "; cat > " + path("stdin"));
  config["general"]["weight"] = 2;
  const auto pid = runner_->start({"t-1", config});
  ASSERT_TRUE(pid.has_value());
  EXPECT_GT(*pid, 0);
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->uuid, "t-1");
  EXPECT_EQ(exit->error, std::nullopt);
  EXPECT_EQ(readFile(path("env")), "t-1 test-worker\n");
  EXPECT_EQ(Json::parse(readFile(path("config"))), config);
  EXPECT_EQ(readFile(path("stdin")), "");  // stdin is /dev/null
  EXPECT_FALSE(processAlive(*pid));
}

TEST_F(ProcessRunnerTest, ConfigFileIsRemovedOnceTheChildEnded) {
  runner_->start({"t-1", shell("echo \"$QTOPOLOGY_CONFIG\" > " + path("name"))});
  ASSERT_TRUE(nextExit().has_value());
  std::string config_file = readFile(path("name"));
  config_file.pop_back();
  ASSERT_FALSE(config_file.empty());
  EXPECT_FALSE(std::filesystem::exists(config_file)) << config_file;
}

TEST_F(ProcessRunnerTest, NonZeroExitIsAnErrorWithCodeAndLastStderrLines) {
  runner_->start(
      {"t-1", shell("echo starting; echo 'first problem' >&2; echo 'fatal: boom' >&2; exit 3")});
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  ASSERT_TRUE(exit->error.has_value());
  EXPECT_EQ(*exit->error, "exited with code 3; stderr: first problem | fatal: boom");
}

TEST_F(ProcessRunnerTest, NonZeroExitWithoutStderrSaysSo) {
  runner_->start({"t-1", {{"general", {{"command", {"false"}}}}}});  // found in PATH
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, "exited with code 1 (nothing on stderr)");
}

TEST_F(ProcessRunnerTest, LongStderrKeepsTheLastWholeLinesWithinTheErrorColumn) {
  runner_->start({"t-1", shell("i=0; while [ $i -lt 300 ]; do echo \"line number $i\" >&2; "
                               "i=$((i+1)); done; exit 2")});
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value() && exit->error.has_value());
  const std::string& error = *exit->error;
  EXPECT_LE(error.size(), 1000u);
  EXPECT_GT(error.size(), 900u);
  EXPECT_THAT(error, StartsWith("exited with code 2; stderr: line number "));
  EXPECT_THAT(error, ::testing::EndsWith("line number 299"));
  // Cut at a line start: the first kept line is whole.
  EXPECT_THAT(error,
              ::testing::ContainsRegex("^exited with code 2; stderr: line number [0-9]+ \\| "));
}

TEST_F(ProcessRunnerTest, DeathBySignalNotAskedForIsAnError) {
  runner_->start({"t-1", shell("echo 'about to die' >&2; kill -SEGV $$")});
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, "killed by SIGSEGV; stderr: about to die");
}

TEST_F(ProcessRunnerTest, StopSendsSigtermAndIsNotAnError) {
  const int pid = startTrappingSigterm("echo TERM > " + path("signal") + "; exit 143");
  runner_->stop("t-1");
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, std::nullopt);
  EXPECT_EQ(readFile(path("signal")), "TERM\n");
  EXPECT_FALSE(processAlive(pid));
  runner_->stop("t-1");  // unknown by now: ignored
  runner_->kill("nope");
}

TEST_F(ProcessRunnerTest, StopEndsWithSigkillAfterTheGracePeriod) {
  runner_ = makeRunner(std::chrono::milliseconds(300));
  const int pid = startTrappingSigterm("echo ignored > " + path("signal"));
  runner_->stop("t-1");
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, std::nullopt);  // it was asked to end
  EXPECT_EQ(readFile(path("signal")), "ignored\n");
  EXPECT_FALSE(processAlive(pid));
}

TEST_F(ProcessRunnerTest, KillEndsTheWholeProcessGroup) {
  const auto pid =
      runner_->start({"t-1", shell("sleep 100 & echo $! > " + path("grandchild") + "; wait")});
  ASSERT_TRUE(
      eventually(std::chrono::seconds(5), [&] { return !readFile(path("grandchild")).empty(); }));
  const pid_t grandchild = std::stoi(readFile(path("grandchild")));
  ASSERT_TRUE(processAlive(grandchild));
  runner_->kill("t-1");
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, std::nullopt);
  EXPECT_FALSE(processAlive(*pid));
  EXPECT_TRUE(eventually(std::chrono::seconds(5), [&] { return !processAlive(grandchild); }));
}

TEST_F(ProcessRunnerTest, WhatAChildLeavesBehindEndsWithIt) {
  runner_->start({"t-1", shell("sleep 100 & echo $! > " + path("grandchild") + "; exit 0")});
  ASSERT_TRUE(nextExit().has_value());
  const pid_t grandchild = std::stoi(readFile(path("grandchild")));
  EXPECT_TRUE(eventually(std::chrono::seconds(5), [&] { return !processAlive(grandchild); }));
}

TEST_F(ProcessRunnerTest, StartingWhatAlreadyRunsIsRefused) {
  runner_->start({"t-1", shell("sleep 100")});
  try {
    runner_->start({"t-1", shell("sleep 100")});
    FAIL() << "started twice";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("already runs here as pid"));
  }
  runner_->kill("t-1");
  ASSERT_TRUE(nextExit().has_value());
  EXPECT_FALSE(nextExit(std::chrono::seconds(1)).has_value());  // one exit for one start
}

TEST_F(ProcessRunnerTest, CommandsThatCannotRunAreRefusedWithTheReason) {
  const auto refusal = [&](const Json& config) -> std::string {
    try {
      runner_->start({"t-1", config});
    } catch (const std::exception& e) {
      return e.what();
    }
    return "started";
  };
  EXPECT_THAT(refusal({{"general", {{"heartbeat", 1000}}}, {"spouts", Json::array()}}),
              StartsWith("no general.command: this worker runs command topologies"));
  EXPECT_THAT(refusal({{"general", {{"command", Json::array()}}}}),
              HasSubstr("general.command: must be a non-empty array of strings"));
  EXPECT_THAT(refusal({{"general", {{"command", "sleep 1"}}}}),
              HasSubstr("general.command: must be a non-empty array of strings"));
  EXPECT_THAT(refusal({{"general", {{"command", {"sleep", 1}}}}}),
              HasSubstr("general.command[1]: must be a non-empty string, not a number"));
  EXPECT_THAT(refusal({{"general", {{"command", {""}}}}}),
              HasSubstr("general.command[0]: must be a non-empty string"));
  EXPECT_EQ(refusal({{"general", {{"command", {"no-such-program-here"}}}}}),
            "general.command[0]: program 'no-such-program-here' not found in PATH");
  std::ofstream(path("not-executable")) << "#!/bin/sh\n";
  EXPECT_THAT(refusal({{"general", {{"command", {path("not-executable")}}}}}),
              HasSubstr("cannot run " + path("not-executable") + ": Permission denied"));
  EXPECT_FALSE(nextExit(std::chrono::seconds(0)).has_value());
}

TEST_F(ProcessRunnerTest, AnExitIsReportedEvenWhenTheHostIgnoresSigchld) {
  // With SIGCHLD ignored the kernel reaps the host's children at once; the
  // topology's exit status is its supervisor's to collect, so it is not lost.
  const auto previous = std::signal(SIGCHLD, SIG_IGN);
  runner_->start({"t-1", shell("echo 'bad input' >&2; exit 3")});
  const auto exit = nextExit();
  std::signal(SIGCHLD, previous);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, "exited with code 3; stderr: bad input");
}

TEST_F(ProcessRunnerTest, EpochReachesTheEnvironmentAndTheConfigFile) {
  const auto config = shell("echo \"$QTOPOLOGY_EPOCH\" > " + path("epoch") +
                            "; cat \"$QTOPOLOGY_CONFIG\" > " + path("config"));
  runner_->start({"t-1", config, 42});
  ASSERT_TRUE(nextExit().has_value());
  EXPECT_EQ(readFile(path("epoch")), "42\n");
  auto with_epoch = config;
  with_epoch["epoch"] = 42;
  EXPECT_EQ(Json::parse(readFile(path("config"))), with_epoch);

  // Without an epoch, neither.
  runner_->start({"t-2", shell("echo \"${QTOPOLOGY_EPOCH-unset}\" > " + path("no-epoch"))});
  ASSERT_TRUE(nextExit().has_value());
  EXPECT_EQ(readFile(path("no-epoch")), "unset\n");
}

TEST_F(ProcessRunnerTest, CredentialsNeverReachTheTopology) {
  ::setenv("QTOPOLOGY_MYSQL_URL", "mysql://u:url-secret@h/db", 1);
  ::setenv("QTOPOLOGY_DASHBOARD_TOKEN", "dashboard-secret", 1);
  ::setenv("QTOPOLOGY_MYSQL_PASSWORD_FILE", "/nonexistent/pw", 1);
  ::setenv("SOME_API_TOKEN", "token-secret", 1);
  ::setenv("HARMLESS_SETTING", "kept", 1);
  runner_->start({"t-1", shell("env > " + path("env") + "; sleep 100")});
  for (const char* name : {"QTOPOLOGY_MYSQL_URL", "QTOPOLOGY_DASHBOARD_TOKEN",
                           "QTOPOLOGY_MYSQL_PASSWORD_FILE", "SOME_API_TOKEN"}) {
    ::unsetenv(name);
  }
  ::unsetenv("HARMLESS_SETTING");
  ASSERT_TRUE(eventually(std::chrono::seconds(5), [&] {
    return readFile(path("env")).find("HARMLESS") != std::string::npos;
  }));
  const std::string env = readFile(path("env"));
  for (const char* secret : {"url-secret", "dashboard-secret", "/nonexistent/pw", "token-secret",
                             "QTOPOLOGY_MYSQL", "QTOPOLOGY_DASHBOARD"}) {
    EXPECT_EQ(env.find(secret), std::string::npos) << secret << " in\n" << env;
  }
  EXPECT_NE(env.find("HARMLESS_SETTING=kept"), std::string::npos);
  runner_->kill("t-1");
  ASSERT_TRUE(nextExit().has_value());
}

TEST_F(ProcessRunnerTest, StopSendsSigtermToEveryProcessOfTheTreeBeforeSigkill) {
  runner_ = makeRunner(std::chrono::milliseconds(500));
  // Both ignore SIGTERM after writing that they saw it; one left the
  // session. SIGKILL must come only after both saw SIGTERM.
  const std::string waiting = "while :; do sleep 0.05; done";
  runner_->start({"t-1", shell("trap 'echo main >> " + path("signals") +
                               "' TERM; setsid sh -c \"trap 'echo "
                               "away >> " +
                               path("signals") + "' TERM; echo \\$\\$ > " + path("away") + "; " +
                               waiting + "\" & " + waiting)});
  ASSERT_TRUE(eventually(std::chrono::seconds(5), [&] { return !readFile(path("away")).empty(); }));
  const auto away = pidsIn(path("away"));
  runner_->stop("t-1");
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, std::nullopt);
  const std::string signals = readFile(path("signals"));
  EXPECT_NE(signals.find("main\n"), std::string::npos) << signals;
  EXPECT_NE(signals.find("away\n"), std::string::npos) << signals;
  EXPECT_TRUE(noneAlive(away));
}

TEST_F(ProcessRunnerTest, KillEndsProcessesThatLeftTheGroupAndTheSession) {
  runner_->start({"t-1", shell(treeScript(path("pids")))});
  ASSERT_TRUE(
      eventually(std::chrono::seconds(5), [&] { return pidsIn(path("pids")).size() == 3; }));
  const auto pids = pidsIn(path("pids"));
  ASSERT_TRUE(eventually(std::chrono::seconds(5), [&] { return sessionOf(pids[1]) == pids[1]; }))
      << "the first grandchild runs in a session of its own";
  runner_->kill("t-1");
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, std::nullopt);
  // Reported only once the whole tree has gone.
  EXPECT_TRUE(noneAlive(pids));
}

TEST_F(ProcessRunnerTest, TheLeaseRunningOutEndsTheTreeAndSaysSo) {
  using std::chrono::milliseconds;
  const auto lease = milliseconds(600);
  runner_->renewLease(std::chrono::steady_clock::now() + lease);
  runner_->start({"t-1", shell(treeScript(path("pids")))});
  ASSERT_TRUE(
      eventually(std::chrono::seconds(5), [&] { return pidsIn(path("pids")).size() == 3; }));
  const auto pids = pidsIn(path("pids"));
  // Renewed, it lives on past several leases.
  for (int i = 0; i < 15; ++i) {
    runner_->renewLease(std::chrono::steady_clock::now() + lease);
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_FALSE(nextExit(std::chrono::seconds(0)).has_value());
  EXPECT_TRUE(processAlive(pids[0]) && processAlive(pids[1]) && processAlive(pids[2]));
  // No longer renewed: gone, and reported as a lapse.
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_THAT(exit->error.value_or(""), HasSubstr("the worker's lease ran out"));
  EXPECT_TRUE(noneAlive(pids));
}

// The runner's thread is stuck logging a child's line (a slow stdout): here
// the log sink blocks every line of the child's stderr until released. stop
// and renewLease neither wait for it nor are held up by the runner's lock,
// and the tree dies on time. (The sink itself takes no lock, so the other
// lines pass: that a stuck stdout holds up no thread at all is the worker's
// asynchronous logger's part, not the runner's.)
class BlockingSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  void release() {
    std::lock_guard<std::mutex> lock(gate_mutex_);
    released_ = true;
    gate_.notify_all();
  }
  bool blocked() const { return blocked_.load(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (text.rfind("[t-1] ", 0) != 0) return;
    blocked_ = true;
    std::unique_lock<std::mutex> lock(gate_mutex_);
    gate_.wait_for(lock, std::chrono::seconds(30), [&] { return released_; });
  }
  void flush_() override {}

 private:
  std::mutex gate_mutex_;
  std::condition_variable gate_;
  bool released_ = false;
  std::atomic<bool> blocked_{false};
};

TEST_F(ProcessRunnerTest, AChildFloodingAStuckLogDelaysNeitherStopNorKillNorTheLease) {
  auto sink = std::make_shared<BlockingSink>();
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("blocking", sink));
  runner_ = makeRunner(std::chrono::milliseconds(300));
  runner_->start({"t-1", shell("echo $$ > " + path("pid") +
                               "; trap '' TERM; while :; do echo "
                               "'flooding stderr with the same line again and again' >&2; done")});
  const bool blocked = eventually(std::chrono::seconds(5), [&] { return sink->blocked(); });
  const auto pids = pidsIn(path("pid"));
  std::atomic<bool> returned{false};
  std::thread caller([&] {
    runner_->renewLease(std::chrono::steady_clock::now() + std::chrono::seconds(10));
    runner_->stop("t-1");  // SIGTERM ignored: SIGKILL after 300 ms
    runner_->renewLease(std::chrono::steady_clock::now() + std::chrono::seconds(10));
    returned = true;
  });
  const bool calls_returned = eventually(std::chrono::seconds(5), [&] { return returned.load(); });
  const bool tree_gone = eventually(std::chrono::seconds(5), [&] { return noneAlive(pids); });
  sink->release();
  caller.join();
  const auto exit = nextExit();
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(blocked) << "the child's lines reached the log";
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_TRUE(calls_returned) << "renewLease or stop waited for the log";
  EXPECT_TRUE(tree_gone) << "the stopped tree outlived its grace while the log was stuck";
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, std::nullopt);
}

TEST_F(ProcessRunnerTest, ASupervisorSentSigtermStopsItsTopologyAndThatIsAnError) {
  const int pid = startTrappingSigterm("echo TERM > " + path("signal") + "; exit 0");
  const pid_t supervisor = parentOf(pid);
  ASSERT_GT(supervisor, 0);
  ::kill(supervisor, SIGTERM);
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_THAT(exit->error.value_or(""), HasSubstr("was sent a signal"));
  EXPECT_EQ(readFile(path("signal")), "TERM\n");
  EXPECT_FALSE(processAlive(pid));
}

TEST_F(ProcessRunnerTest, ASupervisorKilledFromOutsideTakesItsTopologyAlongAndIsAnError) {
  const auto pid = runner_->start({"t-1", shell("exec sleep 100")}).value();
  const pid_t supervisor = parentOf(pid);
  ASSERT_GT(supervisor, 0);
  ::kill(supervisor, SIGKILL);
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_THAT(exit->error.value_or(""),
              HasSubstr("its supervisor (pid " + std::to_string(supervisor) + ")"));
  EXPECT_TRUE(eventually(std::chrono::seconds(5), [&] { return !processAlive(pid); }));
}

// A fork of this test process that runs a ProcessRunner with a topology
// tree (treeScript), writes the tree's pids and its config file's path,
// renews the lease `renewals` times every 100 ms (none: never), then waits
// to be killed. Returns the host's pid once the tree is up.
pid_t startHost(const std::string& dir, std::chrono::milliseconds lease, int renewals) {
  const pid_t host = ::fork();
  if (host != 0) return host;
  {
    ProcessRunner runner(options("doomed", std::chrono::seconds(5)));
    runner.setExitCallback([](TopologyExit) {});
    if (lease.count() > 0) runner.renewLease(std::chrono::steady_clock::now() + lease);
    runner.start({"t-1", shell("echo \"$QTOPOLOGY_CONFIG\" > " + dir + "/config; " +
                               treeScript(dir + "/pids"))});
    for (int i = 0; i < renewals; ++i) {
      runner.renewLease(std::chrono::steady_clock::now() + lease);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (;;) ::pause();
  }
}

// The worker is SIGKILLed: nothing can clean up in it, yet its topology's
// whole tree ends, and its config file goes.
TEST_F(ProcessRunnerTest, TheWholeTreeDiesWithTheProcessThatRunsIt) {
  runner_.reset();  // fork only a process without threads
  const pid_t host = startHost(dir_, std::chrono::milliseconds(0), 0);
  ASSERT_GT(host, 0);
  ASSERT_TRUE(
      eventually(std::chrono::seconds(5), [&] { return pidsIn(path("pids")).size() == 3; }));
  const auto pids = pidsIn(path("pids"));
  std::string config_file = readFile(path("config"));
  ASSERT_FALSE(config_file.empty());
  config_file.pop_back();
  ASSERT_TRUE(std::filesystem::exists(config_file));
  ::kill(host, SIGKILL);
  int status = 0;
  ::waitpid(host, &status, 0);
  EXPECT_TRUE(eventually(std::chrono::seconds(5), [&] { return noneAlive(pids); }))
      << "the tree outlived its worker";
  EXPECT_TRUE(eventually(std::chrono::seconds(5), [&] {
    return !std::filesystem::exists(config_file);
  })) << config_file;
}

// The worker is paused (SIGSTOP) past its lease: its supervisor ends the
// tree at the deadline, although the worker can do nothing.
TEST_F(ProcessRunnerTest, APausedWorkersTreeDiesWhenTheLeaseRunsOut) {
  runner_.reset();
  const auto lease = std::chrono::milliseconds(800);
  const pid_t host = startHost(dir_, lease, 5);
  ASSERT_GT(host, 0);
  ASSERT_TRUE(
      eventually(std::chrono::seconds(5), [&] { return pidsIn(path("pids")).size() == 3; }));
  const auto pids = pidsIn(path("pids"));
  ::kill(host, SIGSTOP);
  const auto paused_at = std::chrono::steady_clock::now();
  const bool gone = eventually(std::chrono::seconds(10), [&] { return noneAlive(pids); });
  const auto after = std::chrono::steady_clock::now() - paused_at;
  ::kill(host, SIGKILL);
  int status = 0;
  ::waitpid(host, &status, 0);
  EXPECT_TRUE(gone) << "the paused worker's tree outlived the lease";
  std::cout << "[figures] paused host's tree gone after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(after).count() << " ms (lease "
            << lease.count() << " ms from the last renewal)" << std::endl;
}

}  // namespace
}  // namespace qtopology::testing
