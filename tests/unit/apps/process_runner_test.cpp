// ProcessRunner against real child processes (/bin/sh scripts): what the
// child gets, how its end is reported, stop and kill, and that children die
// with the process that runs them. No database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "process.hpp"
#include "process_runner.hpp"
#include "topology_config.hpp"

namespace qtopology::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using worker::ProcessRunner;

Json shell(const std::string& script) {
  return {{"general", {{"command", {"/bin/sh", "-c", script}}}}};
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
    auto runner =
        std::make_unique<ProcessRunner>(worker::ProcessRunnerOptions{"test-worker", grace});
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
    const auto pid = runner_->start("t-1", shell("trap '" + on_term + "' TERM; echo ready > " +
                                                 path("ready") + "; while :; do sleep 0.05; done"));
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
  const auto pid = runner_->start("t-1", config);
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
  runner_->start("t-1", shell("echo \"$QTOPOLOGY_CONFIG\" > " + path("name")));
  ASSERT_TRUE(nextExit().has_value());
  std::string config_file = readFile(path("name"));
  config_file.pop_back();
  ASSERT_FALSE(config_file.empty());
  EXPECT_FALSE(std::filesystem::exists(config_file)) << config_file;
}

TEST_F(ProcessRunnerTest, NonZeroExitIsAnErrorWithCodeAndLastStderrLines) {
  runner_->start("t-1",
                 shell("echo starting; echo 'first problem' >&2; echo 'fatal: boom' >&2; exit 3"));
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  ASSERT_TRUE(exit->error.has_value());
  EXPECT_EQ(*exit->error, "exited with code 3; stderr: first problem | fatal: boom");
}

TEST_F(ProcessRunnerTest, NonZeroExitWithoutStderrSaysSo) {
  runner_->start("t-1", {{"general", {{"command", {"false"}}}}});  // found in PATH
  const auto exit = nextExit();
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->error, "exited with code 1 (nothing on stderr)");
}

TEST_F(ProcessRunnerTest, LongStderrKeepsTheLastWholeLinesWithinTheErrorColumn) {
  runner_->start("t-1", shell("i=0; while [ $i -lt 300 ]; do echo \"line number $i\" >&2; "
                              "i=$((i+1)); done; exit 2"));
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
  runner_->start("t-1", shell("echo 'about to die' >&2; kill -SEGV $$"));
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
      runner_->start("t-1", shell("sleep 100 & echo $! > " + path("grandchild") + "; wait"));
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
  runner_->start("t-1", shell("sleep 100 & echo $! > " + path("grandchild") + "; exit 0"));
  ASSERT_TRUE(nextExit().has_value());
  const pid_t grandchild = std::stoi(readFile(path("grandchild")));
  EXPECT_TRUE(eventually(std::chrono::seconds(5), [&] { return !processAlive(grandchild); }));
}

TEST_F(ProcessRunnerTest, StartingWhatAlreadyRunsIsRefused) {
  runner_->start("t-1", shell("sleep 100"));
  try {
    runner_->start("t-1", shell("sleep 100"));
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
      runner_->start("t-1", config);
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

TEST_F(ProcessRunnerTest, AnExitReapedElsewhereIsStillReported) {
  // With SIGCHLD ignored the kernel reaps children at once: the runner
  // cannot learn how one ended, but must not wait for it forever.
  const auto previous = std::signal(SIGCHLD, SIG_IGN);
  runner_->start("t-1", shell("exit 0"));
  const auto exit = nextExit();
  std::signal(SIGCHLD, previous);
  ASSERT_TRUE(exit.has_value());
  EXPECT_THAT(exit->error.value_or(""), HasSubstr("exit status was collected elsewhere"));
}

// The worker is SIGKILLed: nothing can clean up, yet its children end.
TEST_F(ProcessRunnerTest, ChildrenDieWithTheProcessThatRunsThem) {
  runner_.reset();  // fork only a process without threads
  int pid_pipe[2];
  ASSERT_EQ(::pipe(pid_pipe), 0);
  const pid_t host = ::fork();
  ASSERT_GE(host, 0);
  if (host == 0) {
    ProcessRunner runner(worker::ProcessRunnerOptions{"doomed", std::chrono::seconds(5)});
    runner.setExitCallback([](TopologyExit) {});
    const auto child = runner.start("t-1", shell("exec sleep 100"));
    const int child_pid = child.value_or(-1);
    if (::write(pid_pipe[1], &child_pid, sizeof child_pid) != sizeof child_pid) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(pid_pipe[1]);
  int child_pid = -1;
  ASSERT_EQ(::read(pid_pipe[0], &child_pid, sizeof child_pid),
            static_cast<ssize_t>(sizeof child_pid));
  ::close(pid_pipe[0]);
  ASSERT_TRUE(processAlive(child_pid));
  ::kill(host, SIGKILL);
  int status = 0;
  ::waitpid(host, &status, 0);
  EXPECT_TRUE(eventually(std::chrono::seconds(5), [&] { return !processAlive(child_pid); }))
      << "pid " << child_pid << " outlived its worker";
}

}  // namespace
}  // namespace qtopology::testing
