#include "cluster.hpp"

#include <qtopology/mysql_coordinator.hpp>
#include <qtopology/worker.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "problem_counter.hpp"
#include "recording_runner.hpp"

namespace bench {
namespace {

using qtopology::Json;
using qtopology::TopologyExit;
using qtopology::TopologyWorker;

constexpr int kTickThreads = 32;  // and as many pooled connections
constexpr std::chrono::milliseconds kTick{1000};
constexpr std::chrono::milliseconds kDispatchSlice{2};
constexpr std::chrono::seconds kSettle{3};
const std::string kDatabase = "qb_cluster";

// 'a','b',... for an IN list; the names are the bench's own.
std::string quotedList(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "'" : ",'") + n + "'";
  return list;
}

std::string workerName(int index) {
  char text[16];
  std::snprintf(text, sizeof text, "cw%05d", index + 1);
  return text;
}

long long questions(RawClient& raw) {
  return std::stoll(
      raw.scalar("select variable_value from information_schema.global_status "
                 "where variable_name = 'QUESTIONS'"));
}

// CPU seconds the server process has used: it runs on this machine.
double serverCpuSeconds(RawClient& raw) {
  std::ifstream pid_file(raw.scalar("select @@pid_file"));
  std::string pid;
  if (!(pid_file >> pid)) return 0;
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses: utime and stime
  // are the 12th and 13th of them.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i >= 12) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double clientCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// N workers, one coordinator shared by kTickThreads threads. A dispatcher
// hands each worker to an idle tick thread when its tick is due; idle threads
// wait for work, not for a time, so a due tick wakes one thread and not all of
// them. Each worker is ticked by one thread at a time. A tick's latency counts from
// when it was due, so a server that falls behind shows as growing latency,
// not as a politely slower schedule.
class Cluster {
 public:
  Cluster(const Target& target, int workers) : raw_(target.address, kDatabase), sink_(logSink()) {
    raw_.query(
        "delete from qtopology_message; delete from qtopology_topology; "
        "delete from qtopology_worker; delete from qtopology_worker_history; "
        "delete from qtopology_topology_history");
    // One topology per worker, disabled until every worker has registered, so
    // that the leader spreads them over all.
    raw_.query(
        "insert into qtopology_topology (uuid, config, status, worker, weight, "
        "worker_affinity, last_ping, error, enabled, pid) "
        "select concat('topology-', lpad(seq, 6, '0')), "
        "'{\"general\":{\"heartbeat\":1000},\"spouts\":[],\"bolts\":[]}', 'unassigned', null, "
        "1, '', now(), null, 0, null from seq_1_to_" +
        std::to_string(workers));
    auto options = qtopology::MySqlOptions::fromUrl(target.url_base + kDatabase);
    options.pool_size = kTickThreads;
    storage_ = std::make_unique<qtopology::MySqlCoordinator>(options);
    for (int w = 0; w < workers; ++w) {
      runners_.push_back(std::make_unique<qtopology::testing::RecordingRunner>());
      qtopology::WorkerOptions o;
      o.name = workerName(w);
      o.tick = kTick;
      workers_.push_back(std::make_unique<TopologyWorker>(*storage_, *runners_[w], o));
    }
    // Started at different moments, as real workers are.
    std::mt19937 random(42);
    const auto start = Clock::now() + std::chrono::milliseconds(100);
    for (int w = 0; w < workers; ++w) {
      due_.push({start + std::chrono::milliseconds(random() % kTick.count()), w});
    }
    stopped_.assign(workers, false);
    for (int t = 0; t < kTickThreads; ++t) threads_.emplace_back([this] { tickLoop(); });
    threads_.emplace_back([this] { dispatchLoop(); });
  }

  ~Cluster() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ending_ = true;
    }
    work_.notify_all();
    for (auto& t : threads_) t.join();
  }

  int size() const { return static_cast<int>(workers_.size()); }

  // Waits until every worker is registered, enables the topologies, and
  // returns the seconds from then until every topology runs; < 0 if either
  // takes longer than `limit`.
  double awaitPlacement(std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    const auto count = [&](const std::string& where) {
      return std::stoi(raw_.scalar("select count(*) from " + where));
    };
    while (count("qtopology_worker where status = 'alive'") < size()) {
      if (Clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    raw_.query("update qtopology_topology set enabled = 1");
    const auto enabled = Clock::now();
    while (running() < size()) {
      if (Clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return std::chrono::duration<double>(Clock::now() - enabled).count();
  }

  ClusterStep measure(double seconds) {
    const long long questions_before = questions(raw_);
    const double server_before = serverCpuSeconds(raw_);
    const double client_before = clientCpuSeconds();
    const long warnings_before = sink_->count();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      heartbeat_ = Recorder();
      leader_max_ms_ = 0;
      measuring_ = true;
    }
    const auto from = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    ClusterStep step;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      measuring_ = false;
      const Summary s = heartbeat_.serial();
      step.heartbeat_p50_ms = s.p50_us / 1000;
      step.heartbeat_p99_ms = s.p99_us / 1000;
      step.leader_cycle_ms = leader_max_ms_;
    }
    const double window = std::chrono::duration<double>(Clock::now() - from).count();
    step.server_cores = (serverCpuSeconds(raw_) - server_before) / window;
    step.client_cores = (clientCpuSeconds() - client_before) / window;
    // The reads of the counter and of the pid file are the only statements
    // that are not the workers'.
    const long long calls = questions(raw_) - questions_before - 3;
    step.workers = size();
    step.round_trips_per_worker_s = static_cast<double>(calls) / size() / window;
    step.warnings = static_cast<std::size_t>(sink_->count() - warnings_before);
    return step;
  }

  // Stops ticking `count` workers at once, never the leader; returns the
  // topologies that ran on them.
  std::vector<std::string> stopWorkers(int count) {
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int w = size() - 1; w >= 0 && static_cast<int>(names.size()) < count; --w) {
        if (workers_[w]->isLeader()) continue;
        stopped_[w] = true;
        names.push_back(workerName(w));
      }
    }
    // A tick in flight may still finish; its heartbeat changes nothing here.
    stopped_names_ = quotedList(names);
    std::vector<std::string> uuids;
    const std::string text =
        raw_.scalar("select group_concat(uuid) from qtopology_topology where worker in (" +
                    stopped_names_ + ")");
    std::string uuid;
    for (char c : text + ",") {
      if (c != ',') {
        uuid += c;
      } else if (!uuid.empty()) {
        uuids.push_back(uuid);
        uuid.clear();
      }
    }
    return uuids;
  }

  int running() {
    return std::stoi(
        raw_.scalar("select count(*) from qtopology_topology where status = 'running'"));
  }

  // How many of `uuids` run on a worker that stopWorkers() did not stop.
  int runningElsewhere(const std::vector<std::string>& uuids) {
    if (uuids.empty()) return 0;
    return std::stoi(
        raw_.scalar("select count(*) from qtopology_topology where uuid in (" + quotedList(uuids) +
                    ") and status = 'running' and worker not in (" + stopped_names_ + ")"));
  }

 private:
  struct Due {
    Clock::time_point at;
    int worker;
    bool operator>(const Due& o) const { return at > o.at; }
  };

  static std::shared_ptr<ProblemCounter> logSink() {
    auto sink = std::make_shared<ProblemCounter>();
    auto logger = std::make_shared<spdlog::logger>("qtopology-bench", sink);
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    return sink;
  }

  // Moves due ticks to the ready queue, and ticks that ended back into the
  // schedule. The schedule is this thread's own.
  void dispatchLoop() {
    std::vector<Due> ended;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!ending_) {
      ended.swap(ended_);
      lock.unlock();
      for (const Due& d : ended) due_.push(d);
      ended.clear();
      std::vector<Due> ready;
      const auto now = Clock::now();
      while (!due_.empty() && due_.top().at <= now) {
        ready.push_back(due_.top());
        due_.pop();
      }
      // Ticks that end meanwhile are picked up within a few milliseconds.
      const auto wake =
          due_.empty() ? now + kDispatchSlice : std::min(due_.top().at, now + kDispatchSlice);
      lock.lock();
      for (const Due& d : ready) {
        ready_.push_back(d);
        work_.notify_one();
      }
      lock.unlock();
      std::this_thread::sleep_until(wake);
      lock.lock();
    }
  }

  void tickLoop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_.wait(lock, [this] { return ending_ || !ready_.empty(); });
      if (ending_) return;
      const Due next = ready_.front();
      ready_.pop_front();
      if (stopped_[next.worker]) continue;
      lock.unlock();
      TopologyWorker& worker = *workers_[next.worker];
      const auto began = Clock::now();
      worker.tick();
      const auto ended = Clock::now();
      lock.lock();
      if (measuring_) {
        if (worker.isLeader()) {
          leader_max_ms_ = std::max(
              leader_max_ms_, std::chrono::duration<double, std::milli>(ended - began).count());
        } else {
          heartbeat_.add(ended - next.at);
        }
      }
      ended_.push_back({next.at + kTick, next.worker});
    }
  }

  RawClient raw_;
  std::shared_ptr<ProblemCounter> sink_;
  std::unique_ptr<qtopology::MySqlCoordinator> storage_;
  // Outlive the workers that call them. Locked: a worker's lease watchdog
  // may kill from its own thread.
  std::vector<std::unique_ptr<qtopology::testing::RecordingRunner>> runners_;
  std::vector<std::unique_ptr<TopologyWorker>> workers_;

  std::mutex mutex_;
  std::condition_variable work_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;  // the dispatcher's
  std::deque<Due> ready_;   // due, waiting for a tick thread
  std::vector<Due> ended_;  // ticked, with their next due time
  std::vector<bool> stopped_;
  bool ending_ = false;
  bool measuring_ = false;
  Recorder heartbeat_;
  double leader_max_ms_ = 0;
  std::vector<std::thread> threads_;
  std::string stopped_names_;  // quoted, comma-separated, for SQL
};

ClusterStep clusterStep(const Target& target, int workers, double seconds) {
  Cluster cluster(target, workers);
  const double placed = cluster.awaitPlacement(std::chrono::seconds(120));
  // Placement is a burst (every worker takes a start message, starts and
  // reports in the same second) whose backlog drains for a second or two;
  // the heartbeat figures are of the steady state after it.
  std::this_thread::sleep_for(kSettle);
  ClusterStep step = cluster.measure(seconds);
  step.placed = placed >= 0 && cluster.running() == workers;
  step.placement_s = placed;
  step.carried = step.placed && step.heartbeat_p99_ms < 100;
  std::fprintf(stderr, "bench: cluster N=%d: placed in %.1f s, heartbeat p99 %.1f ms, %s\n",
               workers, placed, step.heartbeat_p99_ms, step.carried ? "carried" : "not carried");
  return step;
}

}  // namespace

std::vector<ClusterStep> runCluster(const Target& target, double seconds_per_step,
                                    int max_workers) {
  recreateDatabase(target, kDatabase);
  qtopology::MySqlCoordinator(qtopology::MySqlOptions::fromUrl(target.url_base + kDatabase));
  std::vector<ClusterStep> steps;
  int good = 0;
  int bad = 0;
  for (int n = 250; n <= max_workers;
       n = n * 2 > max_workers && n < max_workers ? max_workers : n * 2) {
    steps.push_back(clusterStep(target, n, seconds_per_step));
    const ClusterStep& s = steps.back();
    if (s.carried) {
      good = n;
    } else if (bad == 0 || n < bad) {
      bad = n;
    }
    if (!s.placed || s.heartbeat_p99_ms > 1000) break;  // far past what it carries
  }
  for (int i = 0; i < 2 && bad > good && good > 0; ++i) {
    const int mid = (good + bad) / 2;
    steps.push_back(clusterStep(target, mid, seconds_per_step));
    (steps.back().carried ? good : bad) = mid;
  }
  return steps;
}

FailoverResult runFailover(const Target& target, int workers) {
  recreateDatabase(target, kDatabase);
  qtopology::MySqlCoordinator(qtopology::MySqlOptions::fromUrl(target.url_base + kDatabase));
  Cluster cluster(target, workers);
  FailoverResult result;
  result.workers = workers;
  if (cluster.awaitPlacement(std::chrono::seconds(120)) < 0) return result;
  std::this_thread::sleep_for(kSettle);
  result.stopped = std::max(1, workers / 100);
  const auto orphans = cluster.stopWorkers(result.stopped);
  result.topologies = static_cast<int>(orphans.size());
  const auto from = Clock::now();
  const auto deadline = from + std::chrono::seconds(180);
  while (Clock::now() < deadline) {
    if (cluster.runningElsewhere(orphans) == result.topologies) {
      result.complete = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - from).count();
  std::fprintf(stderr, "bench: failover N=%d: %d workers stopped, %d topologies moved in %.1f s\n",
               workers, result.stopped, result.topologies, result.seconds);
  return result;
}

}  // namespace bench
