// Runs each topology as a child process, the program and arguments of its
// general.command, under a qtopology-supervisor process of its own that
// holds the worker's lease beside it (supervisor_main.cpp). What the
// topology gets:
// - environment: the worker's without credentials (child_environment.hpp),
//   plus QTOPOLOGY_UUID, QTOPOLOGY_WORKER, QTOPOLOGY_CONFIG (the path of a
//   file holding the topology's config as JSON, removed once the topology's
//   processes have all ended) and, when started with an epoch,
//   QTOPOLOGY_EPOCH (also the config file's "epoch" key);
// - stdin /dev/null, stdout and stderr pipes the runner reads: lines are
//   logged escaped, prefixed with the topology and the pipe, within a rate
//   limit per pipe, and the last stderr lines go into the error text when it
//   fails; no byte of it reaches the worker's stdout or a terminal;
// - a session of its own, without a controlling terminal; its supervisor is
//   the init of a PID namespace of the topology's (see Isolation) and the
//   subreaper of everything it starts, and ends that whole tree (other
//   groups and sessions included)
//   when the lease passes without renewLease(), when the worker dies (even
//   by SIGKILL, or paused processes aside, when it stops answering), on
//   stop() (SIGTERM to the tree, SIGKILL after the grace) and on kill().
//
// A Node topology (no general.command: spouts and bolts) runs the same way,
// its process being qtopology's own child wrapper under node (see
// node_runtime.hpp), `node <wrapper> uuid:<uuid>`, with Node's IPC channel
// on its descriptor 3. The runner holds the channel's other end itself and
// speaks qtopology's parent protocol on it (node_channel.hpp, its state in
// node_child.hpp): init with the config, run once init succeeded, a ping
// every general.wrapper.ping_parent_interval ms (3000) and a kill after
// ping_parent_timeout ms (30000) without an answer. An error the child
// reports is the topology's error text. stop() sends shutdown first, SIGTERM
// at half the grace, SIGKILL at the grace.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <qtopology/worker.hpp>

#include "node_runtime.hpp"
#include "supervisor_protocol.hpp"
#include "topology_overrides.hpp"

namespace qtopology::worker {

// How a topology's supervisor is kept out of its topology's reach.
enum class Isolation {
  // The supervisor is the init of a new PID namespace: the topology can
  // neither name nor signal it, and its end ends the whole namespace. As
  // root no user namespace is needed for one.
  PidNamespace,
  // The same, inside a new user namespace (how a worker that is not root
  // gets a PID namespace); it maps no ids, so topologies see their uid and
  // gid as 65534 while they act with the worker's.
  UserAndPidNamespace,
  // Neither is possible here: the topology could stop its supervisor
  // (same uid), so the worker kills the tree itself through pidfds when it
  // finds a supervisor stopped.
  None,
};

// The first the kernel allows (PidNamespace as root), tried by starting a
// child that exits at once.
Isolation strongestIsolation();
const char* describe(Isolation isolation);

struct ProcessRunnerOptions {
  std::string worker;  // the worker's name, for QTOPOLOGY_WORKER
  // How long stop() waits after SIGTERM before it sends SIGKILL.
  std::chrono::milliseconds grace{std::chrono::seconds(5)};
  // The qtopology-supervisor program. Empty: the one installed beside this
  // process's executable.
  std::string supervisor;
  // What topologies get of the worker's environment (child_environment.hpp).
  apps::EnvironmentRules environment;
  // Each topology's stderr is logged at most this fast (bytes per second,
  // after a burst); 0: no limit.
  std::size_t log_bytes_per_second = 16 * 1024;
  std::size_t log_burst_bytes = 64 * 1024;
  // What Node topologies run on (findNodeRuntime()). Its problem, when there
  // is one, is every Node topology's error.
  NodeRuntime node{"", "", "", "Node topologies are not enabled in this runner"};
  // Applied to every config before it starts (topology_overrides.hpp).
  apps::Overrides overrides;
  // nullopt: strongestIsolation().
  std::optional<Isolation> isolation;
  // Where the runner logs (starts, ends, the topologies' stderr); nullptr:
  // qtopology::defaultLogger(). Used from the runner's thread too.
  std::shared_ptr<Logger> logger;
};

// Thread-safe. Exits are reported from the runner's own thread. No call
// waits for a topology's log: reading and logging its stderr happen on the
// runner's thread without the lock that start, stop, kill and renewLease
// take, so a child flooding its stderr into a slow stdout delays only its
// own log lines.
class ProcessRunner final : public TopologyRunner {
 public:
  // Throws std::runtime_error when the supervisor program cannot be found
  // or run, or a pipe cannot be made.
  explicit ProcessRunner(ProcessRunnerOptions options);
  // SIGKILLs every tree that still runs and waits for its supervisor,
  // without reporting.
  ~ProcessRunner() override;
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  Isolation isolation() const { return isolation_; }

  void setExitCallback(ExitCallback callback) override;
  // Throws apps::InvalidTopology for a config without a valid
  // general.command, std::runtime_error when the program cannot be run (not
  // found, not executable), the supervisor fails, or the topology already
  // runs here. Returns the pid of the topology's own process (not of its
  // supervisor). With epoch 0 (no assignment's), neither QTOPOLOGY_EPOCH
  // nor "epoch" is given to the topology.
  std::optional<int> start(const StartRequest& request) override;
  void stop(const std::string& uuid) override;
  void kill(const std::string& uuid) override;
  // Passed on to every supervisor, and to those started later. Until the
  // first call, supervisors hold no deadline.
  void renewLease(std::chrono::steady_clock::time_point deadline) override;

 private:
  struct Child {
    pid_t supervisor = -1;
    pid_t pid = -1;
    int control_fd = -1;  // owned by the reaper's Stream; used here under mutex_
    int channel_fd = -1;  // a Node topology's IPC channel, likewise
    bool end_requested = false;
    // A Node topology asked to shut down: when the supervisor's SIGTERM is
    // due (at half the grace).
    std::optional<std::chrono::steady_clock::time_point> terminate_at;
  };
  struct Stream;  // what only the reaper's thread touches

  // start(), in its steps: refused if the topology runs here already (else
  // the lease deadline to give its supervisor), the supervisor started, the
  // topology's spec handed over until it runs, and the result kept for the
  // reaper's thread.
  std::optional<int> launch(const std::string& uuid, const Json& config,
                            std::optional<std::int64_t> epoch);
  std::optional<std::chrono::steady_clock::time_point> leaseIfNotRunning(const std::string& uuid);
  supervision::Spec topologySpec(const Stream& stream, const std::string& program,
                                 std::vector<std::string> argv, std::optional<std::int64_t> epoch,
                                 std::optional<std::chrono::steady_clock::time_point> deadline,
                                 bool node_channel);
  void startSupervisor(Stream& stream, bool node_channel);
  // A Node topology's first message, once its process runs.
  void sendInit(Stream& stream, const Json& config);
  void handOver(Stream& stream, const supervision::Spec& spec, const std::string& program);
  void adopt(std::unique_ptr<Stream> stream,
             std::optional<std::chrono::steady_clock::time_point> deadline);
  void reap();
  void tendNodeChildren(std::chrono::steady_clock::time_point now);
  bool finish(Stream& stream, std::vector<TopologyExit>& exits);
  void killTreesOfStoppedSupervisors();
  void wake();

  ProcessRunnerOptions options_;
  Isolation isolation_ = Isolation::None;
  const std::shared_ptr<Logger> logger_;  // options_.logger, or the default
  ExitCallback on_exit_;
  std::mutex mutex_;
  std::map<std::string, Child> children_;
  std::vector<std::unique_ptr<Stream>> arrived_;  // started, not yet seen by the reaper
  std::optional<std::chrono::steady_clock::time_point> lease_deadline_;
  bool closing_ = false;
  int wake_fds_[2] = {-1, -1};
  // The reaper's own; the destructor's once the reaper has ended.
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<pid_t> unreaped_;  // supervisors that reported but had not exited yet
  std::thread reaper_;
};

}  // namespace qtopology::worker
