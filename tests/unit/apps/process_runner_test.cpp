// ProcessRunner against real child processes (/bin/sh scripts) under the
// real qtopology-supervisor: what the child gets, how its end is reported,
// stop and kill of its whole tree, the lease held beside it, and that its
// processes die with the process that runs them. No database.
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
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
#include "scratch_directory.hpp"
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

// Shell code that writes the pid of the shell running it, as /proc and this
// test name it, to `path` (whole or not at all). In the topology's PID
// namespace, $$ and $! are the namespace's pids; /proc/self is the host's.
std::string hostPidTo(const std::string& path) {
  return "read -r p _ < /proc/self/stat; echo $p > " + path + ".tmp; mv " + path + ".tmp " + path;
}

// A script that starts, beside its own process, one grandchild in a session
// of its own and one that ignores SIGTERM, writes their pids (its own first)
// to `pids` and then waits.
std::string treeScript(const std::string& pids) {
  return hostPidTo(pids + ".0") + "; setsid sh -c '" + hostPidTo(pids + ".1") +
         "; exec sleep 300' & (trap '' TERM; " + hostPidTo(pids + ".2") +
         "; exec sleep 301) & while [ ! -e " + pids + ".1 ] || [ ! -e " + pids +
         ".2 ]; do sleep 0.01; done; cat " + pids + ".0 " + pids + ".1 " + pids + ".2 > " + pids +
         ".all; mv " + pids + ".all " + pids + "; wait";
}

class ProcessRunnerTest : public ::testing::Test {
 protected:
  ProcessRunnerTest() { runner_ = makeRunner(std::chrono::milliseconds(5000)); }
  ~ProcessRunnerTest() override { runner_.reset(); }

  std::unique_ptr<ProcessRunner> makeRunner(std::chrono::milliseconds grace) {
    return makeRunner(options("test-worker", grace));
  }
  // A runner whose exits nextExit() returns.
  std::unique_ptr<ProcessRunner> makeRunner(worker::ProcessRunnerOptions o) {
    auto runner = std::make_unique<ProcessRunner>(std::move(o));
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

  std::string path(const std::string& name) const { return scratch_.path(name); }

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

  ScratchDirectory scratch_{"process-runner"};
  const std::string& dir_ = scratch_.dir();
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
  const auto pid = runner_->start(
      {"t-1", shell("sh -c '" + hostPidTo(path("grandchild")) + "; exec sleep 100' & wait")});
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
  runner_->start({"t-1", shell("sh -c '" + hostPidTo(path("grandchild")) +
                               "; exec sleep 100' & while [ ! -e " + path("grandchild") +
                               " ]; do sleep 0.01; done; exit 0")});
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
              StartsWith("Node topologies are not enabled in this runner"));
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
  runner_->start(
      {"t-1", shell("trap 'echo main >> " + path("signals") +
                    "' TERM; setsid sh -c \"trap 'echo "
                    "away >> " +
                    path("signals") + "' TERM; read -r p _ < /proc/self/stat; echo \\$p > " +
                    path("away") + "; " + waiting + "\" & " + waiting)});
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
    if (text.rfind("[t-1 stderr] ", 0) != 0) return;
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
  runner_->start({"t-1", shell(hostPidTo(path("pid")) +
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

// Where the kernel gives none, a topology can stop its supervisor (the same
// uid): the runner finds it stopped and kills the tree itself, and says so.
TEST_F(ProcessRunnerTest, WithoutANamespaceATreeWhoseSupervisorWasStoppedIsKilledByTheRunner) {
  auto o = options("test-worker", std::chrono::milliseconds(5000));
  o.isolation = worker::Isolation::None;
  runner_ = makeRunner(std::move(o));
  const auto started = std::chrono::steady_clock::now();
  const auto pid =
      runner_->start({"t-1", shell("sh -c '" + hostPidTo(path("grandchild")) +
                                   "; exec sleep 100' & while [ ! -e " + path("grandchild") +
                                   " ]; do sleep 0.01; done; kill -STOP $PPID; exec sleep 101")});
  const auto exit = nextExit();
  const auto after = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(exit.has_value());
  EXPECT_THAT(exit->error.value_or(""),
              ::testing::MatchesRegex("its supervisor \\(pid [0-9]+\\) was stopped by a signal: "
                                      "the worker killed its tree"));
  EXPECT_FALSE(processAlive(pid.value()));
  EXPECT_FALSE(processAlive(pidsIn(path("grandchild")).at(0)));
  std::cout << "[figures] fallback: tree of a stopped supervisor killed by the runner, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(after).count()
            << " ms after the start" << std::endl;
}

// In its PID namespace a topology cannot stop its supervisor: $PPID is the
// namespace's init, which ignores the signal, and the supervisor's pid as
// /proc shows it names nothing inside. The lease still ends the tree.
TEST_F(ProcessRunnerTest, InItsNamespaceATopologyCannotStopItsSupervisor) {
  ASSERT_NE(runner_->isolation(), worker::Isolation::None) << "no PID namespace on this machine";
  runner_->renewLease(std::chrono::steady_clock::now() + std::chrono::milliseconds(1500));
  const auto pid = runner_->start(
      {"t-1", shell("kill -STOP $PPID; echo \"$PPID $?\" > " + path("by-ppid") +
                    "; read -r me _ < /proc/self/stat; for s in $(cat /proc/$me/stat | cut -d' ' "
                    "-f4); do kill -STOP $s 2> /dev/null; echo \"$s $?\" > " +
                    path("by-proc") + "; done; exec sleep 100")});
  ASSERT_TRUE(
      eventually(std::chrono::seconds(5), [&] { return !readFile(path("by-proc")).empty(); }));
  const pid_t supervisor = parentOf(pid.value());
  EXPECT_EQ(readFile(path("by-ppid")), "1 0\n") << "$PPID is the namespace's init";
  EXPECT_EQ(readFile(path("by-proc")), std::to_string(supervisor) + " 1\n")
      << "the host's pid of the supervisor names nothing in the namespace";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string stat = readFile("/proc/" + std::to_string(supervisor) + "/stat");
  EXPECT_EQ(stat.substr(stat.rfind(')') + 2, 1), "S") << "the supervisor runs on";
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_THAT(exit->error.value_or(""), HasSubstr("the worker's lease ran out"));
  EXPECT_FALSE(processAlive(*pid));
}

// A worker that is not root gets its PID namespaces inside user namespaces
// that map no ids: here a fork of this test that became uid 1000. Its
// topology sees its uid as the overflow id 65534 but acts as 1000 (what it
// writes is 1000's), sees its supervisor as pid 1, and the pid the runner
// returns is the one /proc shows.
TEST_F(ProcessRunnerTest, AWorkerThatIsNotRootGetsAUserAndAPidNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  runner_.reset();  // fork only a process without threads
  std::filesystem::permissions(dir_, std::filesystem::perms::all);
  const std::string seen = path("seen");
  // Where nobody can run it: the build tree may be closed to other users.
  const std::string supervisor = path("qtopology-supervisor");
  std::filesystem::copy_file(QTOPOLOGY_SUPERVISOR, supervisor);
  const pid_t host = ::fork();
  if (host == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(1000) != 0 || ::setuid(1000) != 0) ::_exit(10);
    int code = 0;
    try {
      auto o = options("uid-1000", std::chrono::seconds(5));
      o.supervisor = supervisor;
      ProcessRunner runner(o);
      std::atomic<bool> ended{false};
      runner.setExitCallback([&](TopologyExit) { ended = true; });
      if (runner.isolation() != worker::Isolation::UserAndPidNamespace) ::_exit(11);
      const auto pid = runner.start(
          {"t-1", shell("read -r me _ < /proc/self/stat; echo \"$(id -u) $PPID $me\" > " + seen +
                        ".tmp; mv " + seen + ".tmp " + seen + "; exec sleep 100")});
      if (!eventually(std::chrono::seconds(5), [&] { return !readFile(seen).empty(); }))
        ::_exit(12);
      std::ofstream(seen, std::ios::app) << *pid << "\n";
      runner.kill("t-1");
      if (!eventually(std::chrono::seconds(5), [&] { return ended.load(); })) code = 13;
    } catch (const std::exception& e) {
      std::cerr << e.what() << std::endl;
      code = 14;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(host, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0)
      << "10 cannot become uid 1000, 11 no user namespace, 12 the "
         "topology did not run, 13 it was not killed, 14 an exception";
  std::istringstream lines(readFile(seen));
  std::string uid, ppid, visible, returned;
  lines >> uid >> ppid >> visible >> returned;
  EXPECT_EQ(uid, "65534");  // unmapped in its user namespace
  struct stat written {};
  ASSERT_EQ(::stat(seen.c_str(), &written), 0);
  EXPECT_EQ(written.st_uid, 1000u) << "it acts with the worker's uid";
  EXPECT_EQ(ppid, "1");
  EXPECT_EQ(visible, returned);
  std::cout << "[figures] not root: topology uid " << uid << ", $PPID " << ppid << ", pid "
            << returned << std::endl;
}

}  // namespace
}  // namespace qtopology::testing

namespace qtopology::testing {
namespace {

using ::testing::Not;

// A Node topology against a stand-in for qtopology's child wrapper: a shell
// script that speaks the protocol on descriptor 3 as the test needs, run as
// `/bin/sh SCRIPT uuid:UUID` where `node WRAPPER uuid:UUID` would run.
class NodeChildTest : public ProcessRunnerTest {
 protected:
  std::unique_ptr<ProcessRunner> nodeRunner(const std::string& script) {
    const std::string file = path("wrapper.sh");
    std::ofstream(file) << script;
    auto o = options("test-worker", std::chrono::milliseconds(5000));
    o.node = {"/bin/sh", file, "2.3.2", ""};
    o.overrides = {{"MARKER", "overridden"}};
    return makeRunner(std::move(o));
  }

  static Json nodeTopology(const Json& wrapper = Json::object()) {
    Json general = {{"heartbeat", 100}};
    if (!wrapper.empty()) general["wrapper"] = wrapper;
    return {{"general", general},
            {"spouts", Json::array()},
            {"bolts", Json::array()},
            {"variables", {{"MARKER", "from-config"}}}};
  }

  // Answers init and run without an error, keeping each line in a file.
  std::string answersInitAndRun() const {
    return "read -r line <&3; echo \"$line\" > " + path("init") +
           "; printf '{\"cmd\":0,\"data\":{}}\\n' >&3; read -r line <&3; echo \"$line\" > " +
           path("run") + "; printf '{\"cmd\":1,\"data\":{}}\\n' >&3\n";
  }
};

TEST_F(NodeChildTest, InitGetsTheConfigWithItsUuidAndOverridesThenRunFollows) {
  auto runner = nodeRunner(answersInitAndRun() +
                           "while read -r line <&3; do case \"$line\" in *'\"cmd\":4'*) echo "
                           "shutdown > " +
                           path("shutdown") +
                           "; exit 0;; *'\"cmd\":3'*) printf '{\"cmd\":3,\"data\":{}}\\n' >&3;; "
                           "esac; done\n");
  const auto pid = runner->start({"t-1", nodeTopology()});
  ASSERT_TRUE(pid.has_value());
  ASSERT_TRUE(eventually(std::chrono::seconds(5), [&] { return !readFile(path("run")).empty(); }));
  const Json init = Json::parse(readFile(path("init")));
  EXPECT_EQ(init["cmd"], 0);
  EXPECT_EQ(init["data"]["general"]["uuid"], "t-1");
  EXPECT_EQ(init["data"]["variables"]["MARKER"], "overridden");
  EXPECT_EQ(Json::parse(readFile(path("run"))), Json({{"cmd", 1}, {"data", Json::object()}}));
  EXPECT_EQ(readFile("/proc/" + std::to_string(*pid) + "/cmdline"),
            std::string("/bin/sh\0", 8) + path("wrapper.sh") + std::string("\0uuid:t-1\0", 10));
  // A stop is the shutdown message first: the child ends by itself, long
  // before the SIGTERM at half the 5 s grace.
  const auto stopped_at = std::chrono::steady_clock::now();
  runner->stop("t-1");
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::milliseconds(2000));
  EXPECT_EQ(readFile(path("shutdown")), "shutdown\n");
  EXPECT_EQ(exit->error, std::nullopt);
}

TEST_F(NodeChildTest, AnInitErrorIsTheTopologysErrorAndEndsTheChild) {
  auto runner = nodeRunner(
      "read -r line <&3; printf "
      "'{\"cmd\":0,\"data\":{\"err\":{\"name\":\"Error\",\"message\":\"compile failed: bad "
      "bolt\"}}}\\n' >&3; sleep 30\n");
  runner->start({"t-1", nodeTopology()});
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, "compile failed: bad bolt");
}

TEST_F(NodeChildTest, AChildThatBreaksTheProtocolIsKilledWithoutItsTextEchoed) {
  auto runner =
      nodeRunner(answersInitAndRun() + "printf 'secret-looking garbage\\n' >&3; sleep 30\n");
  runner->start({"t-1", nodeTopology()});
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  ASSERT_TRUE(exit->error.has_value());
  EXPECT_THAT(*exit->error, StartsWith("broke qtopology's IPC protocol: a message that is not "
                                       "valid JSON"));
  EXPECT_THAT(*exit->error, Not(HasSubstr("secret-looking")));
}

TEST_F(NodeChildTest, AChildThatStopsAnsweringPingsIsKilledAfterPingParentTimeout) {
  auto runner = nodeRunner(answersInitAndRun() + "while read -r line <&3; do :; done\n");
  const auto started_at = std::chrono::steady_clock::now();
  runner->start(
      {"t-1", nodeTopology({{"ping_parent_interval", 100}, {"ping_parent_timeout", 600}})});
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - started_at, std::chrono::milliseconds(600));
  EXPECT_THAT(exit->error.value_or(""), HasSubstr("no answer to pings for 600 ms"));
}

TEST_F(NodeChildTest, WithoutNodeANodeTopologyIsRefusedWithTheRuntimesProblem) {
  auto o = options("test-worker", std::chrono::milliseconds(5000));
  o.node.problem = "cannot run Node topologies: no node program 'node' in PATH; install it";
  ProcessRunner runner(std::move(o));
  try {
    runner.start({"t-1", nodeTopology()});
    FAIL() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "cannot run Node topologies: no node program 'node' in PATH; install it");
  }
}

}  // namespace
}  // namespace qtopology::testing
