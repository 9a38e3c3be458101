// A topology is untrusted code, run by real workers on a private database:
// it gets a session of its own without a terminal, cannot type into the
// terminal the worker was started from (TIOCSTI), cannot flood or forge the
// worker's log through its stdout, and cannot switch off its own lease by
// stopping its supervisor. The figures are printed as "[figures]" lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
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

// The fields of /proc/PID/stat after the command: [0] state, [1] ppid,
// [2] pgrp, [3] session, [4] tty_nr; empty when it does not run.
std::vector<std::string> statOf(pid_t pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  std::vector<std::string> fields;
  if (paren == std::string::npos) return fields;
  std::istringstream in(stat.substr(paren + 2));
  for (std::string field; fields.size() < 5 && in >> field;) fields.push_back(field);
  return fields;
}

std::uintmax_t sizeOf(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

class IsolationTest : public ClusterFixture {
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

  void run(const std::string& uuid, const std::vector<std::string>& command) {
    const Json config = {{"general", {{"command", command}}}};
    const auto r = cli({"register", uuid, "-"}, config.dump());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto e = cli({"enable", uuid});
    ASSERT_EQ(e.exit_code, 0) << e.err;
  }

  std::optional<TopologyStatus> running(const std::string& uuid) {
    const auto all = topologies();
    const auto found = all.find(uuid);
    if (found == all.end() || found->second.status != TopologyState::running ||
        !found->second.pid) {
      return std::nullopt;
    }
    return found->second;
  }

  std::string dir_;
};

// The worker runs in a terminal (a pty it has as its controlling terminal,
// as when an operator starts it from a shell). Its topology leads a session
// of its own, holds no terminal, and every TIOCSTI it tries fails: on its
// stdin (/dev/null), stdout and stderr (pipes) and /dev/tty (none).
TEST_F(IsolationTest, InATerminalATopologyHasItsOwnSessionNoTerminalAndCannotTypeIntoIt) {
  std::vector<std::string> args = {QTOPOLOGY_WORKER,   "--name", "w1",         "--url", db_.url(),
                                   "--leader-loop-ms", "1000",   "--lease-ms", "3500"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment = {"QTOPOLOGY_TEST_RUN=" + db_.name()};
  for (char** entry = environ; *entry; ++entry) environment.emplace_back(*entry);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int master = -1;
  const pid_t worker = ::forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(worker, 0);
  if (worker == 0) {
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  // What the worker writes to its terminal, read so that it never blocks.
  std::mutex screen_mutex;
  std::string screen;
  std::thread reader([&] {
    char buffer[4096];
    for (;;) {
      const auto n = ::read(master, buffer, sizeof buffer);
      if (n <= 0) return;  // EIO once the worker's side is closed
      std::lock_guard<std::mutex> lock(screen_mutex);
      screen.append(buffer, static_cast<std::size_t>(n));
    }
  });

  run("probe", {QTOPOLOGY_TTY_PROBE, path("tries")});
  std::optional<TopologyStatus> t;
  const bool probed = eventually(seconds(20), [&] {
    t = running("probe");
    return t && !readFile(path("tries")).empty();
  });
  std::vector<std::string> topology_stat, worker_stat;
  if (probed) {
    topology_stat = statOf(*t->pid);
    worker_stat = statOf(worker);
  }
  const std::string tries = readFile(path("tries"));

  ::kill(worker, SIGTERM);
  int status = 0;
  const bool ended =
      eventually(seconds(15), [&] { return ::waitpid(worker, &status, WNOHANG) == worker; });
  if (!ended) {
    ::kill(worker, SIGKILL);
    ::waitpid(worker, &status, 0);
  }
  reader.join();
  ::close(master);

  ASSERT_TRUE(probed) << screen;
  ASSERT_EQ(topology_stat.size(), 5u);
  ASSERT_EQ(worker_stat.size(), 5u);
  figure("terminal: worker session, tty_nr", worker_stat[3] + ", " + worker_stat[4]);
  figure("terminal: topology pid, session, tty_nr",
         std::to_string(*t->pid) + ", " + topology_stat[3] + ", " + topology_stat[4]);
  std::cout << "[figures] terminal: the topology's TIOCSTI tries (name, result, error):\n"
            << tries << std::flush;
  EXPECT_NE(worker_stat[4], "0") << "the worker holds the pty as its terminal";
  EXPECT_NE(topology_stat[3], worker_stat[3]) << "a session of its own";
  EXPECT_EQ(topology_stat[3], std::to_string(*t->pid)) << "it leads its session";
  EXPECT_EQ(topology_stat[4], "0") << "no controlling terminal";
  EXPECT_EQ(tries,
            "fd0 -1 Inappropriate ioctl for device\n"
            "fd1 -1 Inappropriate ioctl for device\n"
            "fd2 -1 Inappropriate ioctl for device\n"
            "tty -1 No such device or address\n");
}

// A topology writes a forged worker line and terminal escapes to its
// stdout, then floods it with `yes` for 1 s. The worker's log grows by at
// most 256 KiB: the stdout limit (a 64 KiB bucket, 16 KiB/s; each line
// costs its bytes + 32) over the 4 s measured, times the 1.4 that a logged
// "y" line takes in the log beside its cost. No ESC byte reaches the log,
// and the forged line appears only behind the topology's prefix.
TEST_F(IsolationTest, AStdoutFloodAddsABoundedEscapedAndPrefixedShareToTheWorkersLog) {
  constexpr std::uintmax_t kBound = 256 * 1024;
  startWorker("w1");
  const std::string script = "while [ ! -e " + path("go") +
                             " ]; do sleep 0.05; done; printf 'topology s1 ended on request\\n"
                             "\\033[2J\\033]0;owned\\007 after the escapes\\n'; timeout 1 yes; "
                             "touch " +
                             path("done") + "; exec sleep 300";
  run("flood", {"/bin/sh", "-c", script});
  ASSERT_TRUE(eventually(seconds(20), [&] { return running("flood").has_value(); }));
  std::this_thread::sleep_for(milliseconds(500));
  const auto before = sizeOf(logOf("w1"));
  const auto flood_at = Clock::now();
  std::ofstream(path("go")) << "";
  ASSERT_TRUE(eventually(seconds(10), [&] { return std::filesystem::exists(path("done")); }));
  // The drop count is reported once a second at most.
  while (Clock::now() - flood_at < seconds(4)) std::this_thread::sleep_for(milliseconds(50));
  const auto after = sizeOf(logOf("w1"));
  const std::string log = readFile(logOf("w1"));

  std::size_t forged_plain = 0, forged_prefixed = 0, yes_lines = 0;
  std::string dropped;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("topology s1 ended on request") != std::string::npos) {
      ++(line.find("[flood stdout] topology s1 ended on request") != std::string::npos
             ? forged_prefixed
             : forged_plain);
    }
    if (line.size() >= 16 && line.compare(line.size() - 16, 16, "[flood stdout] y") == 0) {
      ++yes_lines;
    }
    if (line.find("of stdout not logged") != std::string::npos) dropped += line + "\n";
  }
  figure("stdout flood: log growth (bytes), bound " + std::to_string(kBound),
         std::to_string(after - before));
  figure("stdout flood: 'y' lines logged", std::to_string(yes_lines));
  std::cout << "[figures] stdout flood: drop reports:\n" << dropped << std::flush;
  EXPECT_LE(after - before, kBound);
  EXPECT_GT(yes_lines, 0u) << "the flood was logged, within its limit";
  EXPECT_THAT(dropped, HasSubstr("of stdout not logged: over the limit of 16384 bytes/s"));
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "a raw ESC byte reached the log";
  EXPECT_THAT(log, HasSubstr("[flood stdout] \\x1b[2J\\x1b]0;owned\\x07 after the escapes"));
  EXPECT_EQ(forged_prefixed, 1u);
  EXPECT_EQ(forged_plain, 0u) << "a forged line passed for the worker's own";
}

// A topology SIGSTOPs its supervisor, by $PPID and by finding it in /proc,
// and its worker is then paused past the dead-worker timeout, so that the
// leader (a second worker) starts it again elsewhere. The first instance
// still ends with the lease: not one sample has two live instances.
TEST_F(IsolationTest, ATopologyThatStopsItsSupervisorStillEndsWithTheLease) {
  startWorker("w1");
  // Every try's result goes to the file: the tries are the figures.
  const std::string tries = path("tries");
  const std::string script =
      "kill -STOP $PPID 2>> " + tries + "; echo \"ppid $PPID: $?\" >> " + tries +
      "; for d in /proc/[0-9]*; do case \"$(tr '\\000' ' ' < $d/cmdline 2>/dev/null)\" in "
      "*qtopology-supervisor*'--topology self-stop'*) kill -STOP ${d#/proc/} 2>> " +
      tries + "; echo \"scanned ${d#/proc/}: $?\" >> " + tries + ";; esac; done; echo tried >> " +
      tries + "; exec sleep 300";
  run("self-stop", {"/bin/sh", "-c", script});
  std::optional<TopologyStatus> first;
  ASSERT_TRUE(eventually(seconds(20), [&] {
    first = running("self-stop");
    return first && first->worker == "w1" && readFile(tries).find("tried") != std::string::npos;
  }));
  const pid_t supervisor = parentOf(*first->pid);
  const std::string supervisor_state = statOf(supervisor).empty() ? "?" : statOf(supervisor)[0];
  std::cout << "[figures] self-stop: the topology's tries (kill's output, exit code):\n"
            << readFile(tries) << std::flush;
  figure("self-stop: its supervisor's pid, and state after the tries",
         std::to_string(supervisor) + ", " + supervisor_state);
  EXPECT_EQ(supervisor_state, "S") << "the supervisor was stopped";

  startWorker("w2");
  ASSERT_TRUE(eventually(seconds(20), [&] {
    const auto ws = workers();
    return ws.count("w2") && ws.at("w2").status == WorkerState::alive;
  }));
  const auto instancesOn = [&](const std::string& worker) {
    return !processesWithEnvironment({"QTOPOLOGY_TEST_RUN=" + db_.name(),
                                      "QTOPOLOGY_UUID=self-stop", "QTOPOLOGY_WORKER=" + worker})
                .empty();
  };
  const auto paused_at = Clock::now();
  workers_.at("w1")->signal(SIGSTOP);
  long samples = 0, both = 0;
  double first_gone_s = -1, second_up_s = -1;
  // Sampled until the second instance has run for 2 s (30 s at most).
  while (Clock::now() - paused_at < seconds(30)) {
    const bool on_w1 = instancesOn("w1");
    const bool on_w2 = instancesOn("w2");
    const double at = std::chrono::duration<double>(Clock::now() - paused_at).count();
    ++samples;
    if (on_w1 && on_w2) ++both;
    if (!on_w1 && first_gone_s < 0) first_gone_s = at;
    if (on_w2 && second_up_s < 0) second_up_s = at;
    if (second_up_s >= 0 && at > second_up_s + 2) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  workers_.at("w1")->signal(SIGCONT);
  figure("self-stop: samples with two live instances",
         std::to_string(both) + " of " + std::to_string(samples));
  figure("self-stop: first instance gone after the pause (s), lease 3.5 s",
         std::to_string(first_gone_s));
  figure("self-stop: second instance up after the pause (s), dead-worker timeout " +
             std::to_string(kWorkerDeadTimeoutS) + " s",
         std::to_string(second_up_s));
  EXPECT_GE(second_up_s, 0) << "the topology never moved to w2";
  EXPECT_GE(first_gone_s, 0) << "the first instance outlived its lease";
  EXPECT_EQ(both, 0);
}

}  // namespace
}  // namespace qtopology::testing
