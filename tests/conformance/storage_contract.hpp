// The CoordinationStorage contract (include/qtopology/coordination_storage.hpp)
// as one typed suite: every storage, and ComposedCoordinationStorage's
// versions over every storage, must pass it alike (except fencing, which
// the composed versions lack: reported as "not fenced"), error types and texts
// included. A test program instantiates it with its harnesses (harness.hpp):
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StorageContract, MemoryHarnesses, ...);
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "harness.hpp"

namespace qtopology::conformance {

using namespace std::chrono_literals;

// "Type: what()" of what the call throws, "no error" when it returns.
template <typename Call>
std::string failure(Call&& call) {
  try {
    call();
  } catch (const NotFoundError& e) {
    return std::string("NotFoundError: ") + e.what();
  } catch (const InvalidArgument& e) {
    return std::string("InvalidArgument: ") + e.what();
  } catch (const ConnectionError& e) {
    return std::string("ConnectionError: ") + e.what();
  } catch (const StorageError& e) {
    return std::string("StorageError: ") + e.what();
  }
  return "no error";
}

inline std::string text(const std::optional<std::string>& v) { return v ? *v : "(none)"; }

template <typename Harness>
class StorageContract : public ::testing::Test {
 protected:
  StorageContract() : harness_(std::make_unique<Harness>(Timeouts{})) {}

  // A fresh storage with other timeouts; call before anything else.
  void useTimeouts(const Timeouts& timeouts) {
    harness_.reset();
    harness_ = std::make_unique<Harness>(timeouts);
  }

  CoordinationStorage& s() { return harness_->storage(); }
  void advance(std::chrono::seconds by) { harness_->advance(by); }
  TimePoint now() { return harness_->now(); }
  static constexpr std::chrono::seconds slack() { return Harness::kClockSlack; }

  WorkerStatus worker(const std::string& name) {
    for (auto& w : s().getWorkerStatus()) {
      if (w.name == name) return w;
    }
    ADD_FAILURE() << "no worker row " << name;
    return {};
  }
  TopologyInfo topology(const std::string& uuid) { return s().getTopologyInfo(uuid); }
  int leaders() {
    int n = 0;
    for (const auto& w : s().getWorkerStatus()) n += w.lstatus == Leadership::leader;
    return n;
  }
  std::map<std::string, std::string> properties() {
    std::map<std::string, std::string> out;
    for (const auto& p : s().getProperties()) out[p.key] = p.value;
    return out;
  }

  // Every row but the pings and time stamps, and the history lengths: equal
  // before and after a call means the call wrote nothing (a sitting leader's
  // fencing check may refresh its ping).
  std::string state() {
    std::ostringstream out;
    for (const auto& w : s().getWorkerStatus()) {
      out << "worker " << w.name << ' ' << w.status << ' ' << w.lstatus << ' '
          << s().getWorkerHistory(w.name).size() << '\n';
    }
    for (const auto& t : s().getTopologyStatus()) {
      out << "topology " << t.uuid << ' ' << t.status << ' ' << text(t.worker) << ' '
          << text(t.error) << ' ' << t.pid.value_or(-1) << ' ' << t.enabled << ' '
          << s().getTopologyHistory(t.uuid).size() << '\n';
    }
    for (const auto& m : s().getMsgQueueContent()) {
      out << "message " << m.name << ' ' << m.cmd << ' ' << m.data.dump() << '\n';
    }
    return out.str();
  }

  std::unique_ptr<Harness> harness_;
};

TYPED_TEST_SUITE_P(StorageContract);

// --- validation and errors -----------------------------------------------------

TYPED_TEST_P(StorageContract, BadIdentifiersAreRejectedBeforeAnyWrite) {
  auto& s = this->s();
  EXPECT_EQ(failure([&] { s.registerWorker(""); }),
            "InvalidArgument: registerWorker(worker=): worker is empty");
  EXPECT_EQ(failure([&] { s.registerTopology(std::string(101, 'u'), Json::object()); }),
            "InvalidArgument: registerTopology(uuid=" + std::string(100, 'u') +
                "...): uuid is 101 characters long; at most 100 are allowed");
  EXPECT_EQ(failure([&] { s.registerWorker(std::string("a\0b", 3)); }),
            "InvalidArgument: registerWorker(worker=a?b): worker 'a?b' contains a control "
            "character");
  EXPECT_EQ(failure([&] { s.registerWorker("\xff\xfe"); }),
            "InvalidArgument: registerWorker(worker=\xff\xfe): worker is not valid UTF-8");
  EXPECT_EQ(failure([&] { s.pingWorker(""); }),
            "InvalidArgument: pingWorker(worker=): worker is empty");
  EXPECT_EQ(failure([&] { s.heartbeat(""); }),
            "InvalidArgument: heartbeat(worker=): worker is empty");
  EXPECT_EQ(failure([&] { s.campaign(""); }),
            "InvalidArgument: campaign(worker=): worker is empty");
  EXPECT_TRUE(s.getWorkerStatus().empty());
  EXPECT_TRUE(s.getTopologyStatus().empty());
  // Odd but valid names round-trip exactly.
  const std::string odd = "w'; DROP TABLE qtopology_worker; -- %_\\ \xF0\x9F\x98\x80";
  s.registerWorker(odd);
  EXPECT_EQ(s.getWorkerStatus().at(0).name, odd);
}

TYPED_TEST_P(StorageContract, BadArgumentsNameTheCallAndChangeNothing) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerTopology("t1", Json::object());
  const auto before = this->state();
  // A typed status can still hold what no enumerator names (a cast from a
  // bad integer): refused by number, as text is by the parse functions.
  EXPECT_EQ(failure([&] { s.setWorkerStatus("w1", static_cast<WorkerState>(42)); }),
            "InvalidArgument: setWorkerStatus(worker=w1): unknown worker status 42");
  EXPECT_EQ(failure([&] { s.setWorkerLStatus("w1", static_cast<Leadership>(-1)); }),
            "InvalidArgument: setWorkerLStatus(worker=w1): unknown leadership status -1");
  EXPECT_EQ(
      failure([&] {
        s.setTopologyStatus({"t1", std::nullopt, static_cast<TopologyState>(7), std::nullopt});
      }),
      "InvalidArgument: setTopologyStatus(uuid=t1): unknown topology status 7");
  EXPECT_EQ(
      failure([&] {
        s.setTopologyStatus({"t1", std::nullopt, TopologyState::error, std::string(1001, 'e')});
      }),
      "InvalidArgument: setTopologyStatus(uuid=t1): error text is 1001 characters long; "
      "at most 1000 are allowed");
  EXPECT_EQ(failure([&] {
              s.setTopologyStatus({"t1", std::string(""), TopologyState::running, std::nullopt});
            }),
            "InvalidArgument: setTopologyStatus(uuid=t1): worker is empty");
  EXPECT_EQ(failure([&] { s.sendMessageToWorker("w1", "x", Json::object(), 0ms); }),
            "InvalidArgument: sendMessageToWorker(worker=w1): valid_for must be positive, got "
            "0 ms");
  EXPECT_EQ(failure([&] { s.sendMessageToWorker("w1", "x", Json::object(), -1ms); }),
            "InvalidArgument: sendMessageToWorker(worker=w1): valid_for must be positive, got "
            "-1 ms");
  EXPECT_EQ(failure([&] { s.sendMessageToWorker("w1", "", Json::object(), 1s); }),
            "InvalidArgument: sendMessageToWorker(worker=w1): message command is empty");
  EXPECT_EQ(failure([&] { s.sendMessageToWorker("w1", "x", Json("\xff"), 1s); })
                .rfind("InvalidArgument: sendMessageToWorker(worker=w1): content cannot be "
                       "serialised: ",
                       0),
            0u);
  EXPECT_EQ(failure([&] { s.registerTopology("t2", Json::array()); }),
            "InvalidArgument: registerTopology(uuid=t2): config must be a JSON object, not array");
  EXPECT_EQ(failure([&] {
              s.registerTopology("t2", Json{{"general", {{"weight", -1}}}});
            }),
            "InvalidArgument: registerTopology(uuid=t2): config.general.weight must be a "
            "positive number, not -1");
  EXPECT_EQ(failure([&] {
              s.registerTopology("t2", Json{{"general", {{"worker_affinity", "w1"}}}});
            }),
            "InvalidArgument: registerTopology(uuid=t2): config.general.worker_affinity must be an "
            "array");
  EXPECT_EQ(failure([&] { s.assignTopology("t1", ""); }),
            "InvalidArgument: assignTopology(uuid=t1): worker is empty");
  EXPECT_EQ(this->state(), before);
}

TYPED_TEST_P(StorageContract, UnknownWorkerIsNotFoundByEveryCallThatNamesOne) {
  auto& s = this->s();
  s.registerTopology("t1", Json::object());
  const auto nf = [](const std::string& op) {
    return "NotFoundError: " + op + "(worker=ghost): worker not found: ghost";
  };
  EXPECT_EQ(failure([&] { s.pingWorker("ghost"); }), nf("pingWorker"));
  EXPECT_EQ(failure([&] { s.announceLeaderCandidacy("ghost"); }), nf("announceLeaderCandidacy"));
  EXPECT_EQ(failure([&] { s.checkLeaderCandidacy("ghost"); }), nf("checkLeaderCandidacy"));
  EXPECT_EQ(failure([&] { s.setWorkerStatus("ghost", WorkerState::dead); }), nf("setWorkerStatus"));
  EXPECT_EQ(failure([&] { s.setWorkerLStatus("ghost", Leadership::normal); }),
            nf("setWorkerLStatus"));
  EXPECT_EQ(failure([&] { s.deleteWorker("ghost"); }), nf("deleteWorker"));
  EXPECT_EQ(failure([&] { s.shutDownWorker("ghost"); }), nf("shutDownWorker"));
  EXPECT_EQ(failure([&] { s.getMessages("ghost"); }), nf("getMessages"));
  EXPECT_EQ(failure([&] { s.getMessage("ghost"); }), nf("getMessage"));
  EXPECT_EQ(failure([&] { s.sendMessageToWorker("ghost", "x", Json::object(), 1s); }),
            nf("sendMessageToWorker"));
  EXPECT_EQ(failure([&] { s.heartbeat("ghost"); }), nf("heartbeat"));
  EXPECT_EQ(failure([&] { s.campaign("ghost"); }), nf("campaign"));
  EXPECT_EQ(failure([&] { s.assignTopology("t1", "ghost"); }),
            "NotFoundError: assignTopology(uuid=t1): worker not found: ghost");
  // Lists and histories of nobody are empty, not errors.
  EXPECT_TRUE(s.getTopologiesForWorker("ghost").empty());
  EXPECT_TRUE(s.getWorkerHistory("ghost").empty());
  EXPECT_TRUE(s.getWorkerStatus().empty());
  EXPECT_EQ(s.getTopologyHistory("t1").size(), 1u);
}

TYPED_TEST_P(StorageContract, UnknownTopologyIsNotFoundByEveryCallThatNamesOne) {
  auto& s = this->s();
  s.registerWorker("w1");
  const auto nf = [](const std::string& op) {
    return "NotFoundError: " + op + "(uuid=nope): topology not found: nope";
  };
  EXPECT_EQ(failure([&] { s.getTopologyInfo("nope"); }), nf("getTopologyInfo"));
  EXPECT_EQ(failure([&] { s.assignTopology("nope", "w1"); }), nf("assignTopology"));
  EXPECT_EQ(failure([&] {
              s.setTopologyStatus({"nope", std::nullopt, TopologyState::running, std::nullopt});
            }),
            nf("setTopologyStatus"));
  EXPECT_EQ(failure([&] { s.setTopologyPid("nope", 12); }), nf("setTopologyPid"));
  EXPECT_EQ(failure([&] { s.enableTopology("nope"); }), nf("enableTopology"));
  EXPECT_EQ(failure([&] { s.disableTopology("nope"); }), nf("disableTopology"));
  EXPECT_EQ(failure([&] { s.stopTopology("nope"); }), nf("stopTopology"));
  EXPECT_EQ(failure([&] { s.killTopology("nope"); }), nf("killTopology"));
  EXPECT_EQ(failure([&] { s.deleteTopology("nope"); }), nf("deleteTopology"));
  EXPECT_EQ(failure([&] { s.clearTopologyError("nope"); }), nf("clearTopologyError"));
  EXPECT_EQ(failure([&] { s.clearTopologyErrorToLastWorker("nope"); }),
            nf("clearTopologyErrorToLastWorker"));
  EXPECT_TRUE(s.getTopologyHistory("nope").empty());
  EXPECT_TRUE(s.getTopologyStatus().empty());
  EXPECT_TRUE(s.getMsgQueueContent().empty());
}

// --- workers ---------------------------------------------------------------------

TYPED_TEST_P(StorageContract, RegisterWorkerInsertsAliveWorkerWithPidAndRevivesIt) {
  auto& s = this->s();
  s.registerWorker("w1");
  auto w = this->worker("w1");
  EXPECT_EQ(w.status, WorkerState::alive);
  EXPECT_EQ(w.lstatus, Leadership::normal);
  EXPECT_EQ(w.pid, ::getpid());
  EXPECT_LE(std::chrono::abs(w.last_ping - this->now()), this->slack());
  ASSERT_EQ(s.getWorkerHistory("w1").size(), 1u);
  s.setWorkerStatus("w1", WorkerState::dead);
  this->advance(5s);
  s.registerWorker("w1");
  ASSERT_EQ(s.getWorkerStatus().size(), 1u);
  w = this->worker("w1");
  EXPECT_EQ(w.status, WorkerState::alive);
  EXPECT_LE(std::chrono::abs(w.last_ping - this->now()), this->slack());
  const auto history = s.getWorkerHistory("w1");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].status, WorkerState::alive);
  EXPECT_EQ(history[1].status, WorkerState::dead);
  EXPECT_EQ(history[0].pid, ::getpid());
}

TYPED_TEST_P(StorageContract, PingMovesLastPingAndNothingElse) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.setWorkerStatus("w1", WorkerState::disabled);
  this->advance(100s);
  EXPECT_GE(this->now() - this->worker("w1").last_ping, 100s);
  s.pingWorker("w1");
  const auto w = this->worker("w1");
  EXPECT_LE(std::chrono::abs(w.last_ping - this->now()), this->slack());
  EXPECT_EQ(w.status, WorkerState::disabled);
  EXPECT_EQ(s.getWorkerHistory("w1").size(), 2u);  // a ping is no change of status
}

TYPED_TEST_P(StorageContract, SetWorkerStatusDropsLeadershipAndWritesHistory) {
  auto& s = this->s();
  s.registerWorker("w1");
  ASSERT_TRUE(s.campaign("w1"));
  const auto before = s.getWorkerHistory("w1").size();
  s.setWorkerStatus("w1", WorkerState::closing);
  const auto w = this->worker("w1");
  EXPECT_EQ(w.status, WorkerState::closing);
  EXPECT_EQ(w.lstatus, Leadership::normal);  // only an alive worker may lead
  const auto history = s.getWorkerHistory("w1");
  ASSERT_EQ(history.size(), before + 1);
  EXPECT_EQ(history[0].status, WorkerState::closing);
  EXPECT_EQ(history[0].lstatus, Leadership::normal);
}

TYPED_TEST_P(StorageContract, SetWorkerLStatusGuardsLeadership) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  s.setWorkerLStatus("w1", Leadership::leader);
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::leader);
  EXPECT_EQ(failure([&] { s.setWorkerLStatus("w2", Leadership::leader); }),
            "InvalidArgument: setWorkerLStatus(worker=w2): another worker is leader, cannot "
            "promote: w2");
  s.setWorkerStatus("w2", WorkerState::dead);
  EXPECT_EQ(failure([&] { s.setWorkerLStatus("w2", Leadership::candidate); }),
            "InvalidArgument: setWorkerLStatus(worker=w2): worker is dead, cannot be candidate: "
            "w2");
  s.setWorkerLStatus("w1", Leadership::normal);
  EXPECT_EQ(this->leaders(), 0);
  s.setWorkerStatus("w2", WorkerState::alive);
  s.setWorkerLStatus("w2", Leadership::leader);
  EXPECT_EQ(this->leaders(), 1);
  EXPECT_EQ(s.getWorkerHistory("w2")[0].lstatus, Leadership::leader);
}

TYPED_TEST_P(StorageContract, OnlyAnUnloadedWorkerCanBeDeleted) {
  auto& s = this->s();
  s.registerWorker("w1");
  EXPECT_EQ(failure([&] { s.deleteWorker("w1"); }),
            "InvalidArgument: deleteWorker(worker=w1): worker is alive, not unloaded: w1");
  s.setWorkerStatus("w1", WorkerState::unloaded);
  s.deleteWorker("w1");
  EXPECT_TRUE(s.getWorkerStatus().empty());
  EXPECT_EQ(failure([&] { s.deleteWorker("w1"); }),
            "NotFoundError: deleteWorker(worker=w1): worker not found: w1");
}

TYPED_TEST_P(StorageContract, WorkerHistoryIsNewestFirstAndKeeps100Rows) {
  auto& s = this->s();
  s.registerWorker("w1");
  for (int i = 0; i < 110; ++i)
    s.setWorkerStatus("w1", i % 2 ? WorkerState::alive : WorkerState::closing);
  const auto history = s.getWorkerHistory("w1");
  ASSERT_EQ(history.size(), 100u);
  EXPECT_EQ(history.front().status, WorkerState::alive);  // the last change, i = 109
  EXPECT_EQ(history.back().status,
            WorkerState::closing);  // i = 10: the registration and i < 10 are gone
  EXPECT_EQ(history.front().name, "w1");
}

// --- topologies ------------------------------------------------------------------

TYPED_TEST_P(StorageContract, RegisterTopologyInsertsUnassignedDisabledThenUpdatesTheDefinition) {
  auto& s = this->s();
  const Json config{{"general", {{"weight", 2.5}, {"worker_affinity", {"w1", "w2"}}}},
                    {"text", "\xC3\xBCn\xC3\xAF \"q\" 'single' back\\slash \t %_;"},
                    {"bolts", Json::array()}};
  s.registerTopology("t1", config);
  auto info = this->topology("t1");
  EXPECT_EQ(info.uuid, "t1");
  EXPECT_EQ(info.status, TopologyState::unassigned);
  EXPECT_FALSE(info.enabled);
  EXPECT_FALSE(info.worker.has_value());
  EXPECT_FALSE(info.error.has_value());
  EXPECT_FALSE(info.pid.has_value());
  EXPECT_DOUBLE_EQ(info.weight, 2.5);
  EXPECT_EQ(info.worker_affinity, (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(info.config.dump(), config.dump());

  s.registerWorker("w1");
  s.assignTopology("t1", "w1");
  s.enableTopology("t1");
  s.registerTopology("t1", Json::object());  // the definition only, not the run state
  info = this->topology("t1");
  EXPECT_EQ(info.status, TopologyState::waiting);
  EXPECT_EQ(info.worker, "w1");
  EXPECT_TRUE(info.enabled);
  EXPECT_DOUBLE_EQ(info.weight, 1.0);
  EXPECT_TRUE(info.worker_affinity.empty());
  EXPECT_EQ(s.getTopologyStatus().size(), 1u);
  const auto history = s.getTopologyHistory("t1");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].status, TopologyState::waiting);  // newest first
  EXPECT_DOUBLE_EQ(history[0].weight, 1.0);
  EXPECT_EQ(history[3].status, TopologyState::unassigned);
}

TYPED_TEST_P(StorageContract, AssignTopologyMakesItWaitingOnTheWorker) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  s.registerTopology("t1", Json::object());
  s.registerTopology("t2", Json::object());
  s.assignTopology("t1", "w1");
  const auto t = this->topology("t1");
  EXPECT_EQ(t.status, TopologyState::waiting);
  EXPECT_EQ(t.worker, "w1");
  const auto mine = s.getTopologiesForWorker("w1");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].uuid, "t1");
  EXPECT_TRUE(s.getTopologiesForWorker("w2").empty());
  const auto history = s.getTopologyHistory("t1");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].status, TopologyState::waiting);
  EXPECT_EQ(history[0].worker, "w1");
}

TYPED_TEST_P(StorageContract, StatusFromAWorkerTheTopologyLeftChangesNothing) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  s.registerTopology("t1", Json::object());
  s.assignTopology("t1", "w1");
  s.setTopologyStatus({"t1", std::string("w1"), TopologyState::running, std::nullopt});
  EXPECT_EQ(this->topology("t1").status, TopologyState::running);
  const auto before = this->state();
  s.setTopologyStatus({"t1", std::string("w2"), TopologyState::error, std::string("boom")});
  EXPECT_EQ(this->state(), before);
  s.setTopologyStatus({"t1", std::nullopt, TopologyState::error, std::string("boom")});
  const auto t = this->topology("t1");
  EXPECT_EQ(t.status, TopologyState::error);
  EXPECT_EQ(t.error, "boom");
  EXPECT_EQ(t.worker, "w1");
  EXPECT_EQ(s.getTopologyHistory("t1")[0].error, "boom");
}

TYPED_TEST_P(StorageContract, SetTopologyPidWritesHistory) {
  auto& s = this->s();
  s.registerTopology("t1", Json::object());
  s.setTopologyPid("t1", 4242);
  EXPECT_EQ(this->topology("t1").pid, 4242);
  s.setTopologyPid("t1", std::nullopt);
  EXPECT_FALSE(this->topology("t1").pid.has_value());
  const auto history = s.getTopologyHistory("t1");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_FALSE(history[0].pid.has_value());
  EXPECT_EQ(history[1].pid, 4242);
}

TYPED_TEST_P(StorageContract, EnableAndDisableWriteHistory) {
  auto& s = this->s();
  s.registerTopology("t1", Json::object());
  s.enableTopology("t1");
  EXPECT_TRUE(this->topology("t1").enabled);
  s.disableTopology("t1");
  EXPECT_FALSE(this->topology("t1").enabled);
  const auto history = s.getTopologyHistory("t1");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_FALSE(history[0].enabled);
  EXPECT_TRUE(history[1].enabled);
}

TYPED_TEST_P(StorageContract, StopAndKillDisableAndTellTheAssignedWorker) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerTopology("t1", Json::object());
  s.registerTopology("t2", Json::object());
  s.enableTopology("t1");
  s.enableTopology("t2");
  s.stopTopology("t2");  // not assigned: disabled, nobody to tell
  EXPECT_FALSE(this->topology("t2").enabled);
  EXPECT_TRUE(s.getMsgQueueContent().empty());
  s.assignTopology("t1", "w1");
  s.stopTopology("t1");
  EXPECT_FALSE(this->topology("t1").enabled);
  EXPECT_EQ(this->topology("t1").status, TopologyState::waiting);  // the worker reports the end
  s.enableTopology("t1");
  s.killTopology("t1");
  EXPECT_FALSE(this->topology("t1").enabled);
  const auto queue = s.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue[0].name, "w1");
  EXPECT_EQ(queue[0].cmd, "stop_topology");
  EXPECT_EQ(queue[0].data, (Json{{"uuid", "t1"}}));
  EXPECT_EQ(queue[1].cmd, "kill_topology");
  EXPECT_EQ(queue[1].data, (Json{{"uuid", "t1"}}));
  EXPECT_EQ(queue[1].valid_until - queue[1].created, 30s);
  EXPECT_EQ(s.getTopologyHistory("t1")[0].enabled, false);
}

// As upstream's operator clear: back on the last worker when it is alive and
// the topology enabled, with a start_topology for it and a new epoch;
// otherwise unassigned, with nothing sent.
TYPED_TEST_P(StorageContract, ClearToLastWorkerRestartsThereOnlyWhenItIsAlive) {
  auto& s = this->s();
  for (const auto* w : {"w1", "w2"}) s.registerWorker(w);
  for (const auto* uuid : {"t1", "t2", "t3"}) {
    s.registerTopology(uuid, Json::object());
    s.enableTopology(uuid);
  }
  s.assignTopology("t1", "w1");
  s.assignTopology("t2", "w2");
  s.assignTopology("t3", "w1");
  s.disableTopology("t3");
  for (const auto* uuid : {"t1", "t2", "t3"}) {
    s.setTopologyStatus({uuid, std::nullopt, TopologyState::error, std::string("crashed")});
  }
  s.setWorkerStatus("w2", WorkerState::dead);
  const auto epoch = this->topology("t1").epoch;

  EXPECT_EQ(s.clearTopologyErrorToLastWorker("t1"), std::optional<std::string>("w1"));
  auto t = this->topology("t1");
  EXPECT_EQ(t.status, TopologyState::waiting);
  EXPECT_EQ(t.worker, std::optional<std::string>("w1"));
  EXPECT_FALSE(t.error.has_value());
  EXPECT_EQ(t.epoch, epoch + 1);
  const auto queue = s.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].name, "w1");
  EXPECT_EQ(queue[0].cmd, "start_topology");
  EXPECT_EQ(queue[0].data, (Json{{"uuid", "t1"}}));
  EXPECT_EQ(queue[0].valid_until - queue[0].created, 120s);
  EXPECT_EQ(s.getTopologyHistory("t1")[0].status, TopologyState::waiting);

  // The worker is dead, or the topology disabled: unassigned, nothing sent.
  for (const auto* uuid : {"t2", "t3"}) {
    EXPECT_EQ(s.clearTopologyErrorToLastWorker(uuid), std::nullopt) << uuid;
    t = this->topology(uuid);
    EXPECT_EQ(t.status, TopologyState::unassigned) << uuid;
    EXPECT_FALSE(t.error.has_value()) << uuid;
  }
  EXPECT_EQ(s.getMsgQueueContent().size(), 1u);

  // Only from error.
  EXPECT_EQ(failure([&] { s.clearTopologyErrorToLastWorker("t1"); }),
            "InvalidArgument: clearTopologyErrorToLastWorker(uuid=t1): topology is waiting, not in "
            "error: t1");
}

TYPED_TEST_P(StorageContract, ClearTopologyErrorOnlyFromError) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerTopology("t1", Json::object());
  EXPECT_EQ(failure([&] { s.clearTopologyError("t1"); }),
            "InvalidArgument: clearTopologyError(uuid=t1): topology is unassigned, not in error: "
            "t1");
  s.assignTopology("t1", "w1");
  s.setTopologyStatus({"t1", std::string("w1"), TopologyState::error, std::string("crashed")});
  s.clearTopologyError("t1");
  const auto t = this->topology("t1");
  EXPECT_EQ(t.status, TopologyState::unassigned);
  EXPECT_FALSE(t.error.has_value());
  const auto history = s.getTopologyHistory("t1");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].status, TopologyState::unassigned);
  EXPECT_FALSE(history[0].error.has_value());
}

TYPED_TEST_P(StorageContract, DeleteTopologyRemovesIt) {
  auto& s = this->s();
  s.registerTopology("t1", Json::object());
  s.registerTopology("t2", Json::object());
  s.deleteTopology("t1");
  const auto all = s.getTopologyStatus();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].uuid, "t2");
  EXPECT_EQ(failure([&] { s.getTopologyInfo("t1"); }),
            "NotFoundError: getTopologyInfo(uuid=t1): topology not found: t1");
}

// --- messages --------------------------------------------------------------------

TYPED_TEST_P(StorageContract, MessagesAreTakenOnceInSendOrder) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  for (int i = 0; i < 5; ++i) s.sendMessageToWorker("w1", "rebalance", Json{{"i", i}}, 30s);
  s.sendMessageToWorker("w2", "shutdown", Json::object(), 30s);
  EXPECT_EQ(s.getMsgQueueContent().size(), 6u);
  const auto first = s.getMessage("w1");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->cmd, "rebalance");
  EXPECT_EQ(first->content, (Json{{"i", 0}}));
  EXPECT_LE(std::chrono::abs(first->created - this->now()), this->slack());
  const auto rest = s.getMessages("w1");
  ASSERT_EQ(rest.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rest[static_cast<std::size_t>(i)].content["i"], i + 1);
  EXPECT_TRUE(s.getMessages("w1").empty());
  EXPECT_FALSE(s.getMessage("w1").has_value());
  // w2's message is still queued, for w2 alone.
  const auto queue = s.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].name, "w2");
  EXPECT_EQ(s.getMessages("w2").size(), 1u);
  EXPECT_TRUE(s.getMsgQueueContent().empty());
}

TYPED_TEST_P(StorageContract, QueueContentShowsWorkerCommandDataAndLifetime) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.sendMessageToWorker("w1", "start_topology", Json{{"uuid", "t1"}}, 10s);
  const auto queue = s.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].name, "w1");
  EXPECT_EQ(queue[0].cmd, "start_topology");
  EXPECT_EQ(queue[0].data, (Json{{"uuid", "t1"}}));
  EXPECT_EQ(queue[0].valid_until - queue[0].created, 10s);
  EXPECT_LE(std::chrono::abs(queue[0].created - this->now()), this->slack());
}

TYPED_TEST_P(StorageContract, ExpiredMessagesAreNeverReturned) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.sendMessageToWorker("w1", "a", Json{{"n", 1}}, 30s);
  s.sendMessageToWorker("w1", "b", Json{{"n", 2}}, 2s);
  s.sendMessageToWorker("w1", "c", Json{{"n", 3}}, 30s);
  s.sendMessageToWorker("w1", "d", Json{{"n", 4}}, 2s);
  this->advance(5s);  // b and d expired
  const auto queue = s.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue[0].cmd, "a");
  EXPECT_EQ(queue[1].cmd, "c");
  EXPECT_EQ(s.getMessage("w1")->cmd, "a");
  const auto rest = s.getMessages("w1");
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].cmd, "c");
  s.refreshStatuses();
  EXPECT_TRUE(s.getMsgQueueContent().empty());
  EXPECT_TRUE(s.heartbeat("w1").messages.empty());
}

TYPED_TEST_P(StorageContract, ShutDownWorkerSendsShutdownForSixtySeconds) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.shutDownWorker("w1");
  const auto queue = s.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].name, "w1");
  EXPECT_EQ(queue[0].cmd, "shutdown");
  EXPECT_EQ(queue[0].data, Json::object());
  EXPECT_EQ(queue[0].valid_until - queue[0].created, 60s);
}

// --- elections -------------------------------------------------------------------

TYPED_TEST_P(StorageContract, LoneCandidateBecomesAndStaysLeader) {
  auto& s = this->s();
  s.registerWorker("w1");
  EXPECT_FALSE(s.checkLeaderCandidacy("w1"));  // never announced
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::normal);
  s.announceLeaderCandidacy("w1");
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::candidate);
  EXPECT_TRUE(s.checkLeaderCandidacy("w1"));
  EXPECT_TRUE(s.checkLeaderCandidacy("w1"));  // asking again keeps the seat
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::leader);
  const auto history = s.getWorkerHistory("w1");
  ASSERT_EQ(history.size(), 3u);  // registered, candidate, leader
  EXPECT_EQ(history[0].lstatus, Leadership::leader);
  EXPECT_EQ(history[1].lstatus, Leadership::candidate);
}

TYPED_TEST_P(StorageContract, AmongCandidatesTheGreatestNameWins) {
  auto& s = this->s();
  for (auto name : {"a", "b", "c"}) s.registerWorker(name);
  for (auto name : {"a", "b", "c"}) s.announceLeaderCandidacy(name);
  EXPECT_FALSE(s.checkLeaderCandidacy("a"));
  EXPECT_EQ(this->worker("a").lstatus, Leadership::normal);  // a greater candidate: steps back
  EXPECT_TRUE(s.checkLeaderCandidacy("c"));
  EXPECT_FALSE(s.checkLeaderCandidacy("b"));  // c leads now
  EXPECT_EQ(this->worker("b").lstatus, Leadership::normal);
  EXPECT_EQ(this->worker("c").lstatus, Leadership::leader);
  EXPECT_EQ(this->leaders(), 1);
  s.announceLeaderCandidacy("a");  // a live leader: no candidacy
  EXPECT_EQ(this->worker("a").lstatus, Leadership::normal);
  EXPECT_FALSE(s.campaign("b"));
}

TYPED_TEST_P(StorageContract, OnlyAliveWorkersBecomeLeader) {
  auto& s = this->s();
  s.registerWorker("w1");
  for (const auto status :
       {WorkerState::closing, WorkerState::disabled, WorkerState::dead, WorkerState::unloaded}) {
    s.setWorkerStatus("w1", status);
    s.announceLeaderCandidacy("w1");
    EXPECT_FALSE(s.checkLeaderCandidacy("w1")) << status;
    EXPECT_FALSE(s.campaign("w1")) << status;
    EXPECT_EQ(this->worker("w1").lstatus, Leadership::normal) << status;
  }
  EXPECT_EQ(this->leaders(), 0);
}

TYPED_TEST_P(StorageContract, SilentLeaderIsReplacedOnlyAfterTheLeaderTimeout) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  ASSERT_TRUE(s.campaign("w1"));
  this->advance(6s);  // 6 s (plus the clock's slack) < 10 s
  s.pingWorker("w2");
  EXPECT_FALSE(s.campaign("w2"));
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::leader);
  this->advance(6s);  // 12 s
  s.pingWorker("w2");
  EXPECT_TRUE(s.campaign("w2"));
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::normal);
  EXPECT_EQ(this->leaders(), 1);
  s.pingWorker("w1");  // resumed: not leader, and not again while w2 lives
  EXPECT_FALSE(s.checkLeaderCandidacy("w1"));
  EXPECT_FALSE(s.campaign("w1"));
  EXPECT_EQ(this->worker("w2").lstatus, Leadership::leader);
}

TYPED_TEST_P(StorageContract, RefreshDemotesASilentLeaderBeforeDeclaringItDead) {
  auto& s = this->s();
  s.registerWorker("w1");
  ASSERT_TRUE(s.campaign("w1"));
  this->advance(12s);
  s.refreshStatuses();
  auto w = this->worker("w1");
  EXPECT_EQ(w.lstatus, Leadership::normal);
  EXPECT_EQ(w.status, WorkerState::alive);  // not dead yet: 30 s for that
  EXPECT_EQ(s.getWorkerHistory("w1")[0].lstatus, Leadership::normal);
  this->advance(20s);
  s.refreshStatuses();
  w = this->worker("w1");
  EXPECT_EQ(w.status, WorkerState::dead);
  EXPECT_EQ(s.getWorkerHistory("w1")[0].status, WorkerState::dead);
}

// --- heartbeat and campaign ------------------------------------------------------

TYPED_TEST_P(StorageContract, HeartbeatPingsButNeverChangesStatus) {
  auto& s = this->s();
  s.registerWorker("w1");
  for (const auto status :
       {WorkerState::disabled, WorkerState::dead, WorkerState::closing, WorkerState::alive}) {
    s.setWorkerStatus("w1", status);
    this->advance(100s);
    const auto beat = s.heartbeat("w1");
    EXPECT_EQ(beat.status, status);
    EXPECT_EQ(beat.lstatus, Leadership::normal);
    const auto row = this->worker("w1");
    EXPECT_EQ(row.status, status);
    EXPECT_EQ(row.last_ping, beat.now) << status;  // the ping, at the storage's now
    EXPECT_LE(std::chrono::abs(beat.now - this->now()), this->slack()) << status;
  }
  EXPECT_EQ(s.getWorkerHistory("w1").size(), 5u);
}

TYPED_TEST_P(StorageContract, HeartbeatTakesMessagesOnceInSendOrder) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  for (int i = 0; i < 3; ++i) s.sendMessageToWorker("w1", "rebalance", Json{{"i", i}}, 30s);
  s.sendMessageToWorker("w2", "shutdown", Json::object(), 30s);
  const auto beat = s.heartbeat("w1");
  ASSERT_EQ(beat.messages.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(beat.messages[i].cmd, "rebalance");
    EXPECT_EQ(beat.messages[i].content, (Json{{"i", i}}));
  }
  EXPECT_TRUE(s.heartbeat("w1").messages.empty());
  EXPECT_TRUE(s.getMessages("w1").empty());
  const auto queue = s.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].name, "w2");
}

TYPED_TEST_P(StorageContract, HeartbeatReportsTheLeaderAndItsLiveness) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  auto beat = s.heartbeat("w2");
  EXPECT_FALSE(beat.leader.has_value());
  EXPECT_FALSE(beat.leader_alive);
  ASSERT_TRUE(s.campaign("w1"));
  beat = s.heartbeat("w2");
  EXPECT_EQ(beat.leader, "w1");
  EXPECT_TRUE(beat.leader_alive);
  EXPECT_EQ(s.heartbeat("w1").lstatus, Leadership::leader);
  this->advance(6s);
  EXPECT_TRUE(s.heartbeat("w2").leader_alive);
  this->advance(6s);  // 12 s since the leader's last ping
  beat = s.heartbeat("w2");
  EXPECT_EQ(beat.leader, "w1");  // still marked, no longer live
  EXPECT_FALSE(beat.leader_alive);
  s.heartbeat("w1");  // a heartbeat is a ping: live again
  EXPECT_TRUE(s.heartbeat("w2").leader_alive);
  s.setWorkerStatus("w1", WorkerState::closing);  // not alive, so no longer leader
  beat = s.heartbeat("w2");
  EXPECT_FALSE(beat.leader_alive);
}

TYPED_TEST_P(StorageContract, CampaignElectsOneLeaderAndKeepsIt) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  EXPECT_TRUE(s.campaign("w1"));
  EXPECT_FALSE(s.campaign("w2"));
  EXPECT_TRUE(s.campaign("w1"));
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::leader);
  EXPECT_EQ(this->worker("w2").lstatus, Leadership::normal);
  EXPECT_EQ(this->leaders(), 1);
  s.setWorkerStatus("w2", WorkerState::disabled);
  this->advance(12s);
  EXPECT_FALSE(s.campaign("w2"));  // only alive workers campaign
  s.setWorkerStatus("w2", WorkerState::alive);
  EXPECT_TRUE(s.campaign("w2"));
  EXPECT_EQ(this->worker("w1").lstatus, Leadership::normal);
  EXPECT_EQ(this->leaders(), 1);
}

// --- the leader's writes ---------------------------------------------------------

// Every kind of action at once, in the message shapes Node qtopology's
// workers parse.
TYPED_TEST_P(StorageContract, LeaderActionsApplyInNodeFormat) {
  auto& s = this->s();
  for (const char* w : {"leader", "w2", "w3"}) s.registerWorker(w);
  ASSERT_TRUE(s.campaign("leader"));
  for (const char* t : {"t1", "t2", "t3", "t4", "t5", "t6"}) s.registerTopology(t, Json::object());
  // w3 died running t1; t2 failed there.
  s.assignTopology("t1", "w3");
  s.setTopologyStatus({"t1", std::string("w3"), TopologyState::running, std::nullopt});
  s.assignTopology("t2", "w3");
  s.setTopologyStatus({"t2", std::string("w3"), TopologyState::error, std::string("boom")});
  s.setWorkerStatus("w3", WorkerState::dead);
  // t3 claims to run on nobody.
  s.setTopologyStatus({"t3", std::nullopt, TopologyState::running, std::nullopt});
  // t6 runs on w2 and moves to the leader.
  s.assignTopology("t6", "w2");
  s.setTopologyStatus({"t6", std::string("w2"), TopologyState::running, std::nullopt});
  std::map<std::string, std::size_t> history_before;
  for (const auto& t : s.getTopologyStatus()) {
    history_before[t.uuid] = s.getTopologyHistory(t.uuid).size();
  }

  LeaderActions actions;
  actions.unload_workers = {"w3", "w2"};  // w2 is alive: not unloaded
  actions.unassign_topologies = {"t3"};
  actions.assignments = {{"t4", "w2"}, {"t5", "w2"}, {"t1", "leader"}};
  actions.moves = {{"t6", "w2", "leader"}};
  actions.start_valid_for = 120s;
  actions.stop_valid_for = 30s;
  ASSERT_TRUE(s.applyLeaderActions("leader", actions));

  std::map<std::string, std::string> topologies;
  for (const auto& t : s.getTopologyStatus()) {
    topologies[t.uuid] = std::string(toString(t.status)) + " on " + text(t.worker);
  }
  EXPECT_EQ(topologies["t1"], "waiting on leader");  // unassigned from w3, then assigned
  EXPECT_EQ(topologies["t2"], "error on w3");
  EXPECT_EQ(topologies["t3"], "unassigned on (none)");
  EXPECT_EQ(topologies["t4"], "waiting on w2");
  EXPECT_EQ(topologies["t5"], "waiting on w2");
  EXPECT_EQ(topologies["t6"], "running on w2");  // until w2 reports the stop
  EXPECT_EQ(this->worker("w3").status, WorkerState::unloaded);
  EXPECT_EQ(this->worker("w2").status, WorkerState::alive);
  EXPECT_EQ(s.getWorkerHistory("w3")[0].status, WorkerState::unloaded);
  const std::map<std::string, std::size_t> written{{"t1", 2}, {"t2", 0}, {"t3", 1},
                                                   {"t4", 1}, {"t5", 1}, {"t6", 0}};
  for (const auto& [uuid, rows] : written) {
    EXPECT_EQ(s.getTopologyHistory(uuid).size() - history_before[uuid], rows) << uuid;
  }
  EXPECT_EQ(s.getTopologyHistory("t1")[1].status, TopologyState::unassigned);

  std::map<std::pair<std::string, std::string>, MsgQueueItem> messages;
  for (auto& m : s.getMsgQueueContent()) messages[{m.name, m.cmd}] = m;
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ((messages[{"w2", "start_topologies"}].data), (Json{{"uuids", {"t4", "t5"}}}));
  EXPECT_EQ((messages[{"leader", "start_topologies"}].data), (Json{{"uuids", {"t1"}}}));
  EXPECT_EQ((messages[{"w2", "stop_topologies"}].data),
            (Json{{"stop_topologies", {{{"uuid", "t6"}, {"worker_new", "leader"}}}}}));
  const auto lifetime = [&](const std::string& worker, const std::string& cmd) {
    const auto& m = messages[{worker, cmd}];
    return m.valid_until - m.created;
  };
  EXPECT_EQ(lifetime("w2", "start_topologies"), 120s);
  EXPECT_EQ(lifetime("w2", "stop_topologies"), 30s);
}

// Fencing: leader a is silent past its timeout, b is elected; a resumes and
// tries to write its loop's actions. Nothing may change.
TYPED_TEST_P(StorageContract, DemotedLeaderWritesNothing) {
  auto& s = this->s();
  for (const char* w : {"a", "b"}) s.registerWorker(w);
  s.registerTopology("t1", Json::object());
  ASSERT_TRUE(s.campaign("a"));
  this->advance(12s);
  s.pingWorker("b");
  ASSERT_TRUE(s.campaign("b"));
  s.pingWorker("a");  // resumed: alive again, but not leader
  LeaderActions actions;
  actions.assignments = {{"t1", "a"}};
  actions.moves = {{"t1", "b", "a"}};
  const auto before = this->state();
  EXPECT_FALSE(s.applyLeaderActions("a", actions));
  EXPECT_EQ(this->state(), before);
  EXPECT_TRUE(s.applyLeaderActions("b", actions));
  EXPECT_NE(this->state(), before);
  EXPECT_EQ(this->topology("t1").worker, "a");
}

// A leader silent past its timeout that nobody replaced yet: an override
// refuses its writes; the default's fence, checkLeaderCandidacy, still
// takes it for the leader (the weaker fence the interface documents).
TYPED_TEST_P(StorageContract, SilentLeaderIsFencedBeforeAnyElection) {
  auto& s = this->s();
  s.registerWorker("a");
  s.registerTopology("t1", Json::object());
  ASSERT_TRUE(s.campaign("a"));
  this->advance(12s);
  LeaderActions actions;
  actions.assignments = {{"t1", "a"}};
  const auto before = this->state();
  if (TypeParam::kDefaults) {
    EXPECT_TRUE(s.applyLeaderActions("a", actions));
    EXPECT_EQ(this->topology("t1").status, TopologyState::waiting);
  } else {
    EXPECT_FALSE(s.applyLeaderActions("a", actions));
    EXPECT_EQ(this->state(), before);
  }
}

TYPED_TEST_P(StorageContract, LeaderActionsOfAnUnknownOrNonLeaderWorkerWriteNothing) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerTopology("t1", Json::object());
  LeaderActions actions;
  actions.assignments = {{"t1", "w1"}};
  const auto before = this->state();
  EXPECT_FALSE(s.applyLeaderActions("w1", actions));  // never elected
  EXPECT_FALSE(s.applyLeaderActions("ghost", actions));
  EXPECT_EQ(this->state(), before);
}

TYPED_TEST_P(StorageContract, LeaderActionsNamingUnknownRowsFailWhole) {
  auto& s = this->s();
  s.registerWorker("leader");
  s.registerWorker("w2");
  s.registerTopology("t1", Json::object());
  s.registerTopology("t2", Json::object());
  ASSERT_TRUE(s.campaign("leader"));
  const auto before = this->state();
  const auto apply = [&](LeaderActions actions) {
    // Valid actions first, so that a storage writing call by call would
    // have written something by the time it meets the unknown name.
    actions.unassign_topologies.insert(actions.unassign_topologies.begin(), "t2");
    actions.assignments.insert(actions.assignments.begin(), {"t1", "w2"});
    return failure([&] { s.applyLeaderActions("leader", actions); });
  };
  const std::string op = "NotFoundError: applyLeaderActions(leader=leader): ";
  LeaderActions a;
  a.unload_workers = {"ghost"};
  EXPECT_EQ(apply(a), op + "worker not found: ghost");
  a = {};
  a.assignments = {{"t2", "ghost"}};
  EXPECT_EQ(apply(a), op + "worker not found: ghost");
  a = {};
  a.moves = {{"t1", "ghost", "w2"}};
  EXPECT_EQ(apply(a), op + "worker not found: ghost");
  a = {};
  a.unassign_topologies = {"nope"};
  EXPECT_EQ(apply(a), op + "topology not found: nope");
  a = {};
  a.assignments = {{"nope", "w2"}};
  EXPECT_EQ(apply(a), op + "topology not found: nope");
  a = {};  // workers are checked before topologies
  a.unassign_topologies = {"nope"};
  a.unload_workers = {"ghost"};
  EXPECT_EQ(apply(a), op + "worker not found: ghost");
  EXPECT_EQ(this->state(), before);
}

TYPED_TEST_P(StorageContract, MalformedLeaderActionsAreRejectedBeforeTheFence) {
  auto& s = this->s();
  s.registerWorker("leader");
  s.registerTopology("t1", Json::object());
  const std::string op = "InvalidArgument: applyLeaderActions(leader=leader): ";
  const auto apply = [&](const LeaderActions& actions) {
    return failure([&] { s.applyLeaderActions("leader", actions); });
  };
  LeaderActions a;
  a.assignments = {{"t1", ""}};
  EXPECT_EQ(apply(a), op + "worker in assignments is empty");  // not leader: still rejected
  ASSERT_TRUE(s.campaign("leader"));
  const auto before = this->state();
  a = {};
  a.unload_workers = {""};
  EXPECT_EQ(apply(a), op + "worker in unload_workers is empty");
  a = {};
  a.unassign_topologies = {std::string(101, 'u')};
  EXPECT_EQ(apply(a), op + "uuid in unassign_topologies is 101 characters long; at most 100 are "
                           "allowed");
  a = {};
  a.moves = {{"t1", "leader", ""}};
  EXPECT_EQ(apply(a), op + "worker_new in moves is empty");
  a = {};
  a.assignments = {{"t1", "leader"}};
  a.start_valid_for = 0ms;
  EXPECT_EQ(apply(a), op + "start_valid_for and stop_valid_for must be positive, got 0 ms");
  a.start_valid_for = 1s;
  a.stop_valid_for = -5ms;
  EXPECT_EQ(apply(a), op + "start_valid_for and stop_valid_for must be positive, got -5 ms");
  EXPECT_EQ(failure([&] { s.applyLeaderActions("", a); }),
            "InvalidArgument: applyLeaderActions(leader=): leader is empty");
  EXPECT_EQ(this->state(), before);
}

// An operator reading last_ping sees the last heartbeat, also once the
// leader unloaded the worker; the unload's time is its history row.
TYPED_TEST_P(StorageContract, UnloadKeepsTheLastHeartbeat) {
  auto& s = this->s();
  s.registerWorker("leader");
  s.registerWorker("gone");
  ASSERT_TRUE(s.campaign("leader"));
  this->advance(40s);  // past the dead-worker timeout
  s.pingWorker("leader");
  s.refreshStatuses();
  ASSERT_EQ(this->worker("gone").status, WorkerState::dead);
  this->advance(20s);
  s.pingWorker("leader");
  const auto last_heartbeat = this->worker("gone").last_ping;
  LeaderActions unload;
  unload.unload_workers = {"gone"};
  ASSERT_TRUE(s.applyLeaderActions("leader", unload));
  ASSERT_EQ(this->worker("gone").status, WorkerState::unloaded);
  // Composed of the basic calls, the unload is setWorkerStatus, which
  // stamps the ping as the Node package's does.
  if (!TypeParam::kDefaults) {
    EXPECT_EQ(this->worker("gone").last_ping, last_heartbeat);
  }
  const auto history = s.getWorkerHistory("gone");
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0].status, WorkerState::unloaded);
  EXPECT_GE(history[0].ts - last_heartbeat, 20s);  // the unload's time
}

TYPED_TEST_P(StorageContract, OnlyWorkersStillDeadAreUnloaded) {
  auto& s = this->s();
  s.registerWorker("leader");
  s.registerWorker("gone");
  ASSERT_TRUE(s.campaign("leader"));
  for (auto uuid : {"r", "e", "u"}) {
    s.registerTopology(uuid, Json::object());
    s.assignTopology(uuid, "gone");
  }
  s.setTopologyStatus({"r", std::string("gone"), TopologyState::running, std::nullopt});
  s.setTopologyStatus({"e", std::string("gone"), TopologyState::error, std::string("x")});
  s.setTopologyStatus({"u", std::string("gone"), TopologyState::unassigned, std::nullopt});
  LeaderActions unload;
  unload.unload_workers = {"gone"};
  // Alive again when the actions arrive: left alone.
  const auto before = this->state();
  ASSERT_TRUE(s.applyLeaderActions("leader", unload));
  EXPECT_EQ(this->state(), before);
  s.setWorkerStatus("gone", WorkerState::dead);
  const auto u_history = s.getTopologyHistory("u").size();
  ASSERT_TRUE(s.applyLeaderActions("leader", unload));
  EXPECT_EQ(this->worker("gone").status, WorkerState::unloaded);
  EXPECT_EQ(this->worker("gone").lstatus, Leadership::normal);
  EXPECT_EQ(this->topology("r").status, TopologyState::unassigned);
  EXPECT_EQ(this->topology("r").worker, "gone");  // the worker is kept, as a refresh keeps it
  EXPECT_EQ(this->topology("e").status, TopologyState::error);
  EXPECT_EQ(this->topology("e").error, "x");
  EXPECT_EQ(this->topology("u").status, TopologyState::unassigned);
  EXPECT_EQ(s.getTopologyHistory("u").size(), u_history + 1);  // every one not in error
  EXPECT_TRUE(s.getMsgQueueContent().empty());
}

// --- timeouts --------------------------------------------------------------------

TYPED_TEST_P(StorageContract, RefreshAppliesTheThreeTimeouts) {
  auto& s = this->s();
  s.registerWorker("leader");
  s.registerWorker("quiet");
  ASSERT_TRUE(s.campaign("leader"));
  s.registerTopology("waits", Json::object());
  s.registerTopology("runs", Json::object());
  s.registerTopology("errs", Json::object());
  s.assignTopology("waits", "leader");
  s.assignTopology("runs", "quiet");
  s.setTopologyStatus({"runs", std::string("quiet"), TopologyState::running, std::nullopt});
  s.assignTopology("errs", "quiet");
  s.setTopologyStatus({"errs", std::string("quiet"), TopologyState::error, std::string("x")});
  this->advance(12s);
  s.pingWorker("quiet");
  s.refreshStatuses();  // the leader silent for 12 s: no longer leader, still alive
  EXPECT_EQ(this->worker("leader").lstatus, Leadership::normal);
  EXPECT_EQ(this->worker("leader").status, WorkerState::alive);
  EXPECT_EQ(this->topology("waits").status, TopologyState::waiting);
  this->advance(21s);
  s.refreshStatuses();  // 33 s: the leader dead, the topology waited too long
  EXPECT_EQ(this->worker("leader").status, WorkerState::dead);
  EXPECT_EQ(this->topology("waits").status, TopologyState::unassigned);
  EXPECT_EQ(this->topology("waits").worker, "leader");  // kept, as the Node package keeps it
  EXPECT_EQ(this->topology("runs").status, TopologyState::running);
  EXPECT_EQ(this->worker("quiet").status, WorkerState::alive);
  this->advance(12s);
  s.refreshStatuses();  // quiet silent for 33 s: dead, its running topology freed
  EXPECT_EQ(this->worker("quiet").status, WorkerState::dead);
  EXPECT_EQ(this->topology("runs").status, TopologyState::unassigned);
  EXPECT_EQ(this->topology("errs").status, TopologyState::error);
  EXPECT_EQ(s.getTopologyHistory("runs")[0].status, TopologyState::unassigned);
}

TYPED_TEST_P(StorageContract, OtherTimeoutsAreHonouredEverywhere) {
  this->useTimeouts(
      Timeouts{std::chrono::seconds(10), std::chrono::seconds(4), std::chrono::seconds(20)});
  auto& s = this->s();
  s.registerWorker("a");
  s.registerWorker("b");
  s.registerTopology("t", Json::object());
  ASSERT_TRUE(s.campaign("a"));
  s.assignTopology("t", "b");
  this->advance(6s);  // past the leader timeout (4), not the dead one (10)
  s.pingWorker("b");
  // (the default heartbeat learns the timeout from getProperties())
  const auto beat = s.heartbeat("b");
  EXPECT_EQ(beat.leader, "a");
  EXPECT_FALSE(beat.leader_alive);
  EXPECT_TRUE(s.campaign("b"));
  EXPECT_EQ(this->worker("a").lstatus, Leadership::normal);
  s.refreshStatuses();
  EXPECT_EQ(this->worker("a").status, WorkerState::alive);
  EXPECT_EQ(this->topology("t").status, TopologyState::waiting);
  this->advance(6s);  // a silent for 12 s (> 10); t waiting for 12 s (< 20)
  s.pingWorker("b");
  s.refreshStatuses();
  EXPECT_EQ(this->worker("a").status, WorkerState::dead);
  EXPECT_EQ(this->topology("t").status, TopologyState::waiting);
  this->advance(10s);  // t waiting for 22 s
  s.pingWorker("b");
  s.refreshStatuses();
  EXPECT_EQ(this->topology("t").status, TopologyState::unassigned);
  EXPECT_EQ(this->worker("b").lstatus, Leadership::leader);
  const auto p = this->properties();
  EXPECT_EQ(std::stod(p.at("leader_timeout_s")), 4.0);
  EXPECT_EQ(std::stod(p.at("worker_dead_timeout_s")), 10.0);
  EXPECT_EQ(std::stod(p.at("waiting_timeout_s")), 20.0);
}

TYPED_TEST_P(StorageContract, PropertiesNameTheStorage) {
  const auto p = this->properties();
  ASSERT_EQ(p.count("type"), 1u);
  EXPECT_FALSE(p.at("type").empty());
  EXPECT_EQ(this->s().getProperties().front().key, "type");
}

// --- cluster settings ------------------------------------------------------------

TYPED_TEST_P(StorageContract, SettingsListEveryKnownSettingWithItsDefault) {
  const auto settings = this->s().getSettings();
  const auto& specs = clusterSettingSpecs();
  ASSERT_EQ(settings.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(settings[i].name, specs[i].name);
    EXPECT_EQ(settings[i].value, specs[i].default_value) << specs[i].name;
    if (settings[i].stored) {
      EXPECT_EQ(*settings[i].stored, std::to_string(specs[i].default_value)) << specs[i].name;
    }
  }
}

TYPED_TEST_P(StorageContract, SetSettingIsStoredAndTheTimeoutsFollowIt) {
  auto& s = this->s();
  s.setSetting("leader_timeout_s", 4);
  s.setSetting("leader_timeout_s", 4);  // a retry changes nothing more
  s.setSetting("message_claim_retention_s", 300);
  std::map<std::string, ClusterSetting> by_name;
  for (auto& setting : s.getSettings()) by_name[setting.name] = setting;
  EXPECT_EQ(by_name.at("leader_timeout_s").value, 4);
  EXPECT_EQ(text(by_name.at("leader_timeout_s").stored), "4");
  EXPECT_EQ(by_name.at("message_claim_retention_s").value, 300);
  // The write interval's cap follows: half the shorter timeout.
  EXPECT_EQ(by_name.at("heartbeat_write_interval_s").value, 2);
  EXPECT_EQ(this->properties().at("leader_timeout_s").substr(0, 1), "4");

  // The storage judges leaders by the new timeout: silent for 6 s, demoted.
  s.registerWorker("a");
  ASSERT_TRUE(s.campaign("a"));
  this->advance(6s);
  s.refreshStatuses();
  EXPECT_EQ(this->worker("a").lstatus, Leadership::normal);
  EXPECT_EQ(this->worker("a").status, WorkerState::alive);
}

TYPED_TEST_P(StorageContract, BadSettingsAreRefusedAndNothingIsWritten) {
  auto& s = this->s();
  const auto before = s.getSettings();
  EXPECT_EQ(failure([&] { s.setSetting("nope", 5); }),
            "InvalidArgument: setSetting: unknown setting 'nope' (known: worker_dead_timeout_s, "
            "leader_timeout_s, waiting_timeout_s, heartbeat_write_interval_s, "
            "rebalance_interval_s, message_claim_retention_s)");
  EXPECT_EQ(failure([&] { s.setSetting("db_version", 5); }).substr(0, 42),
            "InvalidArgument: setSetting: unknown setti");
  EXPECT_EQ(failure([&] { s.setSetting("leader_timeout_s", 1); }),
            "InvalidArgument: setSetting(leader_timeout_s): 1 is out of range: 2 to 3600 seconds");
  EXPECT_EQ(failure([&] { s.setSetting("worker_dead_timeout_s", -30); }),
            "InvalidArgument: setSetting(worker_dead_timeout_s): -30 is out of range: 3 to "
            "86400 seconds");
  EXPECT_NE(failure([&] { s.setSetting("waiting_timeout_s", 86401); }), "no error");
  const auto after = s.getSettings();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].value, before[i].value) << after[i].name;
    EXPECT_EQ(text(after[i].stored), text(before[i].stored)) << after[i].name;
  }
}

// --- fencing epochs ------------------------------------------------------------

TYPED_TEST_P(StorageContract, EveryAssignmentGrowsTheEpochWhoeverAssigns) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerTopology("t", Json::object());
  s.enableTopology("t");
  EXPECT_EQ(this->topology("t").epoch, 0);
  s.assignTopology("t", "w1");
  EXPECT_EQ(this->topology("t").epoch, 1);
  s.assignTopology("t", "w1");  // the same worker again is a new assignment
  EXPECT_EQ(this->topology("t").epoch, 2);
  // Status changes are not assignments.
  s.setTopologyStatus({"t", std::nullopt, TopologyState::unassigned, std::nullopt});
  s.setTopologyStatus({"t", std::nullopt, TopologyState::running, std::nullopt});
  EXPECT_EQ(this->topology("t").epoch, 2);
  ASSERT_TRUE(s.campaign("w1"));
  LeaderActions actions;
  actions.assignments.push_back({"t", "w1"});
  ASSERT_TRUE(s.applyLeaderActions("w1", actions));
  EXPECT_EQ(this->topology("t").epoch, 3);
  // Every read shows it.
  EXPECT_EQ(s.getTopologyStatus().at(0).epoch, 3);
  EXPECT_EQ(s.getTopologiesForWorker("w1").at(0).epoch, 3);
}

TYPED_TEST_P(StorageContract, AReportForAnOlderAssignmentChangesNothing) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerTopology("t", Json::object());
  s.assignTopology("t", "w1");  // epoch 1
  TopologyReport running;
  running.uuid = "t";
  running.worker = "w1";
  running.status = TopologyState::running;
  running.epoch = 1;
  EXPECT_TRUE(s.reportTopologyStatus(running));
  EXPECT_TRUE(s.reportTopologyPid({"t", 41, 1}));
  s.assignTopology("t", "w1");  // epoch 2: the instance of epoch 1 is stale
  const auto before = this->state();
  TopologyReport stale = running;
  stale.status = TopologyState::error;
  stale.error = "old";
  EXPECT_FALSE(s.reportTopologyStatus(stale));
  EXPECT_FALSE(s.reportTopologyPid({"t", 42, 1}));
  EXPECT_EQ(this->state(), before);
  EXPECT_EQ(this->topology("t").status, TopologyState::waiting);
  EXPECT_EQ(this->topology("t").pid, 41);
  // The current epoch, and a newer one, are written.
  running.epoch = 2;
  EXPECT_TRUE(s.reportTopologyStatus(running));
  EXPECT_TRUE(s.reportTopologyPid({"t", 43, 3}));
  EXPECT_EQ(this->topology("t").status, TopologyState::running);
  EXPECT_EQ(this->topology("t").pid, 43);
  // A worker the topology left changes nothing, whatever its epoch.
  TopologyReport other = running;
  other.worker = "w2";
  other.status = TopologyState::error;
  EXPECT_FALSE(s.reportTopologyStatus(other));
  EXPECT_EQ(this->topology("t").status, TopologyState::running);
  // Errors as the calls without an epoch.
  TopologyReport ghost = running;
  ghost.uuid = "ghost";
  EXPECT_EQ(failure([&] { s.reportTopologyStatus(ghost); }),
            "NotFoundError: setTopologyStatus(uuid=ghost): topology not found: ghost");
  EXPECT_EQ(failure([&] {
              s.reportTopologyPid({"ghost", 1, 1});
            }),
            "NotFoundError: setTopologyPid(uuid=ghost): topology not found: ghost");
}

// Whether the check and the write of reportTopologyStatus,
// reportTopologyPid and applyLeaderActions are one atomic step. A storage on
// ComposedCoordinationStorage is reported "not fenced" (skipped with that
// message); on every other storage, writes racing a reassignment and a
// demotion must never land.
TYPED_TEST_P(StorageContract, ReportsAndLeaderActionsAreFenced) {
  if (dynamic_cast<ComposedCoordinationStorage*>(&this->s()) != nullptr) {
    GTEST_SKIP() << "not fenced: this storage uses ComposedCoordinationStorage, which checks "
                    "the epoch and leadership, then writes";
  }
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerWorker("w2");
  s.registerTopology("t", Json::object());
  ASSERT_TRUE(s.campaign("w1"));
  // An instance reports "error" with the epoch it read, its text naming
  // that epoch, while the topology is assigned again and again. Fenced, a
  // report lands only while its epoch is current, so the row never shows
  // the error of an epoch older than its own.
  const auto staleErrorShown = [&] {
    const auto t = this->topology("t");
    return t.status == TopologyState::error && t.error &&
           std::stoll(t.error->substr(6)) < t.epoch;  // "epoch N"
  };
  s.assignTopology("t", "w1");
  std::atomic<bool> done{false};
  std::atomic<int> stale_seen{0};
  std::thread reassign([&] {
    for (int i = 0; i < 100; ++i) {
      s.assignTopology("t", "w1");
      if (staleErrorShown()) ++stale_seen;
    }
    done = true;
  });
  int reports = 0;
  while (!done || reports == 0) {
    TopologyReport report;
    report.uuid = "t";
    report.worker = "w1";
    report.status = TopologyState::error;
    report.epoch = this->topology("t").epoch;
    report.error = "epoch " + std::to_string(report.epoch);
    s.reportTopologyStatus(report);
    ++reports;
  }
  reassign.join();
  if (staleErrorShown()) ++stale_seen;
  EXPECT_EQ(stale_seen, 0) << "a report landed after its assignment was replaced";
  TopologyReport old;
  old.uuid = "t";
  old.worker = "w1";
  old.status = TopologyState::running;
  old.epoch = 1;
  EXPECT_FALSE(s.reportTopologyStatus(old));
  EXPECT_FALSE(s.reportTopologyPid({"t", 7, 1}));
  // A leader demoted (w2 took over) writes nothing.
  s.setWorkerLStatus("w1", Leadership::normal);
  ASSERT_TRUE(s.campaign("w2"));
  LeaderActions actions;
  actions.assignments.push_back({"t", "w2"});
  const auto before = this->state();
  EXPECT_FALSE(s.applyLeaderActions("w1", actions));
  EXPECT_EQ(this->state(), before);
}

// --- rows another writer left --------------------------------------------------

// Rows no write of the library makes, as plain SQL or a Node peer leaves them:
// a listing yields each flagged (TopologyStatus::invalid, saying why with no
// raw control character), beside the good rows as always. A storage no other
// writer reaches refuses the same values at its writes instead.
TYPED_TEST_P(StorageContract, ListingsFlagBadRowsBesideTheGoodOnes) {
  auto& s = this->s();
  s.registerWorker("w1");
  s.registerTopology("good-1", Json::object());
  s.registerTopology("good-2", Json::object());
  s.enableTopology("good-2");
  s.assignTopology("good-2", "w1");
  const auto row = [](std::string uuid, std::string status, std::string config,
                      std::string affinity = "", double weight = 1, std::string worker = "") {
    ForeignTopology t;
    t.uuid = std::move(uuid);
    t.status = std::move(status);
    t.config = std::move(config);
    t.worker_affinity = std::move(affinity);
    t.weight = weight;
    t.worker = std::move(worker);
    return t;
  };
  const std::vector<std::pair<ForeignTopology, std::string>> bad = {
      {row("bad\x01uuid", "unassigned", "{}"), "uuid 'bad?uuid' contains a control character"},
      {row("bad-status", "paused\x1b", "{}"), "status 'paused?' is not a topology status"},
      {row("bad-config", "unassigned", "{not json"), "config does not parse: "},
      {row("array-config", "unassigned", "[1, 2]"), "config is array, not a JSON object"},
      {row("bad-affinity", "unassigned", "{}", "w1,evil\x1b[2J"),
       "worker in worker_affinity 'evil?[2J' contains a control character"},
      {row("bad-weight", "unassigned", "{}", "", -2), "weight must be a positive number, not -2"},
      {row("bad-worker", "running", "{}", "", 1, "w\nforged"),
       "worker 'w?forged' contains a control character"},
  };
  bool written = false;
  for (const auto& [foreign, why] : bad) written = this->harness_->writeForeign(foreign);
  if (!written) {
    // Through the calls, the same values are refused.
    EXPECT_THROW(s.registerTopology("bad\x01uuid", Json::object()), InvalidArgument);
    EXPECT_THROW(s.registerTopology("array-config", Json::array({1, 2})), InvalidArgument);
    EXPECT_THROW(s.registerTopology("bad-affinity",
                                    {{"general", {{"worker_affinity", {"w1", "evil\x1b[2J"}}}}}),
                 InvalidArgument);
    EXPECT_THROW(s.registerTopology("bad-weight", {{"general", {{"weight", -2}}}}),
                 InvalidArgument);
    EXPECT_THROW(s.assignTopology("good-1", "w\nforged"), InvalidArgument);
    const auto listed = s.getTopologyStatus();
    EXPECT_EQ(listed.size(), 2u);
    for (const auto& t : listed) EXPECT_FALSE(t.invalid) << t.uuid << ": " << *t.invalid;
    return;
  }
  // The config is judged where a leader would place the row: enabled and
  // unassigned. A disabled one is listed as it is.
  this->harness_->writeForeign(row("off-bad-config", "unassigned", "{not json"));
  std::map<std::string, TopologyStatus> listed;
  for (auto& t : s.getTopologyStatus()) listed[t.uuid] = t;
  ASSERT_EQ(listed.size(), 3 + bad.size());
  EXPECT_FALSE(listed.at("good-1").invalid);
  EXPECT_FALSE(listed.at("good-2").invalid);
  EXPECT_EQ(listed.at("good-2").worker, "w1");
  EXPECT_EQ(listed.at("good-2").status, TopologyState::waiting);
  for (const auto& [foreign, why] : bad) {
    const auto& t = listed.at(foreign.uuid);
    ASSERT_TRUE(t.invalid) << foreign.uuid;
    EXPECT_NE(t.invalid->find(why), std::string::npos) << *t.invalid;
    for (unsigned char c : *t.invalid) EXPECT_TRUE(c >= 0x20 && c != 0x7F) << *t.invalid;
  }
  EXPECT_EQ(listed.at("bad-worker").worker, "w\nforged");  // the row as stored
  EXPECT_EQ(listed.at("bad-affinity").worker_affinity,
            (std::vector<std::string>{"w1", "evil\x1b[2J"}));
  // The other reads still answer; one of a bad row flags it too, except
  // where its config, what it returns, does not parse.
  EXPECT_EQ(s.getTopologiesForWorker("w1").size(), 1u);
  EXPECT_TRUE(this->topology("bad-status").invalid);
  EXPECT_FALSE(this->topology("good-2").invalid);
  EXPECT_THROW(this->topology("bad-config"), StorageError);
  // An operator can delete them (those whose uuid the calls accept).
  s.deleteTopology("bad-status");
  EXPECT_EQ(s.getTopologyStatus().size(), 2 + bad.size());
}

REGISTER_TYPED_TEST_SUITE_P(
    StorageContract, UnloadKeepsTheLastHeartbeat, BadIdentifiersAreRejectedBeforeAnyWrite,
    BadArgumentsNameTheCallAndChangeNothing, UnknownWorkerIsNotFoundByEveryCallThatNamesOne,
    UnknownTopologyIsNotFoundByEveryCallThatNamesOne,
    RegisterWorkerInsertsAliveWorkerWithPidAndRevivesIt, PingMovesLastPingAndNothingElse,
    SetWorkerStatusDropsLeadershipAndWritesHistory, SetWorkerLStatusGuardsLeadership,
    OnlyAnUnloadedWorkerCanBeDeleted, WorkerHistoryIsNewestFirstAndKeeps100Rows,
    RegisterTopologyInsertsUnassignedDisabledThenUpdatesTheDefinition,
    AssignTopologyMakesItWaitingOnTheWorker, StatusFromAWorkerTheTopologyLeftChangesNothing,
    SetTopologyPidWritesHistory, EnableAndDisableWriteHistory,
    StopAndKillDisableAndTellTheAssignedWorker, ClearTopologyErrorOnlyFromError,
    ClearToLastWorkerRestartsThereOnlyWhenItIsAlive, DeleteTopologyRemovesIt,
    MessagesAreTakenOnceInSendOrder, QueueContentShowsWorkerCommandDataAndLifetime,
    ExpiredMessagesAreNeverReturned, ShutDownWorkerSendsShutdownForSixtySeconds,
    LoneCandidateBecomesAndStaysLeader, AmongCandidatesTheGreatestNameWins,
    OnlyAliveWorkersBecomeLeader, SilentLeaderIsReplacedOnlyAfterTheLeaderTimeout,
    RefreshDemotesASilentLeaderBeforeDeclaringItDead, HeartbeatPingsButNeverChangesStatus,
    HeartbeatTakesMessagesOnceInSendOrder, HeartbeatReportsTheLeaderAndItsLiveness,
    CampaignElectsOneLeaderAndKeepsIt, LeaderActionsApplyInNodeFormat, DemotedLeaderWritesNothing,
    SilentLeaderIsFencedBeforeAnyElection, LeaderActionsOfAnUnknownOrNonLeaderWorkerWriteNothing,
    LeaderActionsNamingUnknownRowsFailWhole, MalformedLeaderActionsAreRejectedBeforeTheFence,
    OnlyWorkersStillDeadAreUnloaded, RefreshAppliesTheThreeTimeouts,
    OtherTimeoutsAreHonouredEverywhere, PropertiesNameTheStorage,
    SettingsListEveryKnownSettingWithItsDefault, SetSettingIsStoredAndTheTimeoutsFollowIt,
    BadSettingsAreRefusedAndNothingIsWritten, EveryAssignmentGrowsTheEpochWhoeverAssigns,
    AReportForAnOlderAssignmentChangesNothing, ReportsAndLeaderActionsAreFenced, ListingsFlagBadRowsBesideTheGoodOnes);

}  // namespace qtopology::conformance
