// qtopology_bench: the benchmark figures as one table. scripts/bench.sh
// runs the Node peer first and passes its results with --node.
//
//   qtopology_bench --url mysql://user:pass@host:port/ [--node node.json]
//                   [--scale 1] [--concurrency-seconds 2] [--cluster-seconds 10]
//                   [--cluster-max 12800] [--only percall,concurrency,cluster,startup]
//                   [--failover-workers N]  (default: the largest N carried; 0: none)
//                   [--filter worker_status]  (per-call operations whose key contains it)
#include <qtopology/mysql_coordinator.hpp>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "cluster.hpp"
#include "idle.hpp"
#include "scenarios.hpp"

namespace {

using bench::Summary;
using qtopology::Json;

struct Args {
  std::string url;
  std::string node_file;
  double scale = 1;
  double concurrency_seconds = 2;
  double cluster_seconds = 10;
  int cluster_max = 12800;
  int failover_workers = -1;  // -1: the largest N the cluster step carried
  // "idle" (the write cost of an idle cluster; wants a binary-logged
  // server) runs only when asked for.
  std::string only = "percall,concurrency,cluster,startup";
  int idle_workers = 20;
  double idle_seconds = 30;
  std::string filter;  // only the per-call operations whose key contains it (for profiling)
  bool wants(const std::string& part) const { return only.find(part) != std::string::npos; }
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--url")
      a.url = v;
    else if (k == "--node")
      a.node_file = v;
    else if (k == "--scale")
      a.scale = std::stod(v);
    else if (k == "--concurrency-seconds")
      a.concurrency_seconds = std::stod(v);
    else if (k == "--cluster-seconds")
      a.cluster_seconds = std::stod(v);
    else if (k == "--cluster-max")
      a.cluster_max = std::stoi(v);
    else if (k == "--failover-workers")
      a.failover_workers = std::stoi(v);
    else if (k == "--only")
      a.only = v;
    else if (k == "--idle-workers")
      a.idle_workers = std::stoi(v);
    else if (k == "--idle-seconds")
      a.idle_seconds = std::stod(v);
    else if (k == "--filter")
      a.filter = v;
    else
      throw std::runtime_error("unknown option " + k);
  }
  if (a.url.empty()) throw std::runtime_error("usage: qtopology_bench --url mysql://u:p@h:port/");
  return a;
}

std::string printf1(const char* format, double v) {
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::string us(double v) {
  return v >= 10000 ? printf1("%.1f ms", v / 1000) : printf1("%.0f µs", v);
}

std::string cell(const Summary& s) {
  if (!s.valid()) return "—";
  return us(s.p50_us) + " / " + us(s.p99_us) + " · " + printf1("%.0f/s", s.per_s);
}

std::string ratio(const Summary& numerator, const Summary& denominator) {
  if (!numerator.valid() || !denominator.valid()) return "—";
  return printf1("%.2f×", numerator.p50_us / denominator.p50_us) + " (p99 " +
         printf1("%.2f×", numerator.p99_us / denominator.p99_us) + ")";
}

Summary fromJson(const Json& j) {
  Summary s;
  if (!j.is_object()) return s;
  s.p50_us = j.value("p50_us", 0.0);
  s.p99_us = j.value("p99_us", 0.0);
  s.per_s = j.value("per_s", 0.0);
  s.count = j.value("count", std::size_t{0});
  return s;
}

std::string stepText(double n, double p50, double p99, double rt, double leader) {
  return printf1("N=%.0f: ", n) + printf1("heartbeat p50 %.1f", p50) +
         printf1(" / p99 %.1f ms, ", p99) + printf1("%.2f round trips/worker/s, ", rt) +
         printf1("leader loop ≤ %.0f ms", leader);
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

void row(const std::string& what, const std::string& ours, const std::string& floor,
         const std::string& node, const std::string& r_floor, const std::string& r_node) {
  std::cout << "| " << what << " | " << ours << " | " << floor << " | " << node << " | " << r_floor
            << " | " << r_node << " |\n";
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  // deadlock retries are expected under the cluster load and show in its latency
  spdlog::set_level(spdlog::level::err);
  const auto options = qtopology::MySqlOptions::fromUrl(args.url + "mysql");
  bench::Target target{{options.host, options.port, options.user, options.password}, args.url};

  Json node = Json::object();
  if (!args.node_file.empty()) {
    std::ifstream in(args.node_file);
    if (!in) throw std::runtime_error("cannot read " + args.node_file);
    node = Json::parse(in);
  }
  const Json node_ops = node.value("ops", Json::object());

  std::string server_version;
  {
    bench::RawClient raw(target.address, "");
    server_version = raw.scalar("select version()");
  }

  std::vector<bench::OpResult> percall;
  std::vector<bench::ConcurrencyResult> concurrency;
  std::vector<bench::ClusterStep> cluster;
  std::vector<bench::FailoverResult> failovers;
  std::optional<bench::StartupResult> startup;
  if (args.wants("percall")) {
    std::cerr << "bench: per call...\n";
    percall = bench::runPerCall(target, args.scale, args.filter);
  }
  if (args.wants("concurrency")) {
    std::cerr << "bench: concurrency...\n";
    concurrency = bench::runConcurrency(target, args.concurrency_seconds);
  }
  if (args.wants("cluster")) {
    std::cerr << "bench: cluster load...\n";
    cluster = bench::runCluster(target, args.cluster_seconds, args.cluster_max);
    int at = args.failover_workers;
    for (const auto& s : cluster) {
      if (args.failover_workers < 0 && s.carried) at = std::max(at, s.workers);
    }
    if (at > 0) {
      std::cerr << "bench: failover...\n";
      failovers.push_back(bench::runFailover(target, at));
      failovers.push_back(bench::runFailover(target, 10));
    }
  }
  std::vector<bench::IdleCost> idle;
  if (args.wants("idle")) {
    std::cerr << "bench: idle cluster...\n";
    idle = bench::runIdle(target, args.idle_workers, args.idle_seconds);
  }
  if (args.wants("startup")) {
    std::cerr << "bench: start-up...\n";
    startup = bench::runStartup(target);
  }

  std::cout << "\nMachine: " << std::thread::hardware_concurrency() << " CPUs (" << cpuModel()
            << "), server " << server_version << ", client and server on the same machine";
  if (node.contains("node_version")) {
    std::cout << ", Node " << node["node_version"].get<std::string>();
  }
  std::cout << "\nCells: p50 / p99 latency · calls per second. Ratios compare p50 (p99 in "
               "brackets); C floor = the same CALL through libmariadb prepared statements.\n\n";
  row("measurement", "qtopology-mysql C++", "C floor (libmariadb)", "Node qtopology-mysql 2.2.1",
      "C++ ÷ floor (target ≤ 1.15)", "Node ÷ C++ (target ≥ 2)");
  std::cout << "|---|---|---|---|---|---|\n";
  for (const auto& r : percall) {
    const Summary n = fromJson(node_ops.value(r.key, Json()));
    row("1 · " + r.label, cell(r.ours), cell(r.floor), cell(n), ratio(r.ours, r.floor),
        ratio(n, r.ours));
  }
  for (const auto& c : concurrency) {
    row("3 · " + c.op + ", " + std::to_string(c.threads) + " thread(s), pool " +
            std::to_string(c.threads),
        cell(c.ours), cell(c.floor), "—", ratio(c.ours, c.floor), "—");
  }
  const Json node_steps = node.value("cluster", Json::array());
  std::size_t rows = std::max(cluster.size(), node_steps.size());
  int best_ours = 0;
  int best_node = 0;
  std::string best_ours_text = "—";
  std::string best_node_text = "—";
  for (std::size_t i = 0; i < rows; ++i) {
    std::string ours = "—";
    std::string peer = "—";
    if (i < cluster.size()) {
      const auto& s = cluster[i];
      ours = stepText(s.workers, s.heartbeat_p50_ms, s.heartbeat_p99_ms, s.round_trips_per_worker_s,
                      s.leader_cycle_ms) +
             printf1(", CPU: server %.2f", s.server_cores) +
             printf1(" + client %.2f cores", s.client_cores) +
             (s.placed ? printf1(", all placed in %.0f s", s.placement_s) : ", not all placed") +
             (s.warnings ? ", " + std::to_string(s.warnings) + " warnings" : "") +
             (s.carried ? " ✓" : " ✗");
      if (s.carried && s.workers > best_ours) {
        best_ours = s.workers;
        best_ours_text = ours;
      }
    }
    if (i < node_steps.size()) {
      const auto& s = node_steps[i];
      const bool carried = s.value("carried", false);
      const auto errors = s.value("errors", 0);
      peer = stepText(s.value("workers", 0), s.value("heartbeat_p50_ms", 0.0),
                      s.value("heartbeat_p99_ms", 0.0), s.value("round_trips_per_worker_s", 0.0),
                      s.value("leader_cycle_ms", 0.0)) +
             (errors ? ", " + std::to_string(errors) + " errors" : "") + (carried ? " ✓" : " ✗");
      if (carried && s.value("workers", 0) > best_node) {
        best_node = s.value("workers", 0);
        best_node_text = peer;
      }
    }
    row("4 · cluster load (C++: real workers; Node: simulated), ramp step " + std::to_string(i + 1),
        ours, "—", peer, "—", "—");
  }
  if (!cluster.empty() || !node_steps.empty()) {
    row("4 · **largest N with heartbeat p99 < 100 ms**", best_ours_text, "—", best_node_text, "—",
        best_node > 0 ? printf1("C++ carries %.2f× the workers", double(best_ours) / best_node)
                      : "—");
  }
  for (const auto& f : failovers) {
    std::string text = f.complete ? printf1("%.1f s", f.seconds) + " for the " +
                                        std::to_string(f.topologies) + " topologies of " +
                                        std::to_string(f.stopped) + " worker(s)"
                                  : printf1("incomplete after %.0f s", f.seconds);
    const auto& small = failovers.back();
    if (&f != &small && f.complete && small.complete) {
      text += printf1(" (%.2f× the time at N=10)", f.seconds / small.seconds);
    }
    row("4 · failover: 1% of N=" + std::to_string(f.workers) +
            " workers stop ticking, until their topologies run elsewhere",
        text, "—", "—", "—", "—");
  }
  if (startup) {
    const Json ns = node.value("startup", Json::object());
    const auto ms = [](double v) { return printf1("%.0f ms", v); };
    row("5 · start-up: migrate an empty database to the latest version",
        ms(startup->migrate_ms) + " (to v" +
            std::to_string(qtopology::MySqlCoordinator::latestSchemaVersion()) + ")",
        "—", ns.contains("migrate_ms") ? ms(ns["migrate_ms"].get<double>()) + " (to v17)" : "—",
        "—", "—");
    row("5 · start-up: construct on an up-to-date database", ms(startup->construct_ms), "—",
        ns.contains("construct_ms") ? ms(ns["construct_ms"].get<double>()) : "—", "—",
        ns.contains("construct_ms")
            ? printf1("%.2f×", ns["construct_ms"].get<double>() / startup->construct_ms)
            : "—");
  }
  // Node's idle figures, if its script measured them on the same server.
  const Json node_idle = node.value("idle", Json());
  for (const auto& c : idle) {
    const auto perDay = [](double commits, double redo, double binlog) {
      return printf1("%.0f commits, ", commits) + printf1("%.2f MB redo, ", redo / 1e6) +
             printf1("%.2f MB binlog", binlog / 1e6);
    };
    std::string peer = "—", ratio_text = "—";
    if (node_idle.is_object() && node_idle.value("workers", 0) > 0) {
      const double nc = node_idle.value("commits", 0.0), nr = node_idle.value("redo_bytes", 0.0),
                   nb = node_idle.value("binlog_bytes", 0.0);
      peer = perDay(nc, nr, nb) + printf1(", %.2f round trips/worker/s",
                                          node_idle.value("round_trips_per_worker_s", 0.0));
      if (c.commits > 0 && c.binlog_bytes > 0) {
        ratio_text = printf1("Node writes %.1f× the commits", nc / c.commits) +
                     printf1(", %.1f× the binlog bytes", nb / c.binlog_bytes);
      }
    }
    row("6 · idle cluster, N=" + std::to_string(c.workers) + ", per worker per day: " + c.label,
        perDay(c.commits, c.redo_bytes, c.binlog_bytes) +
            printf1(", %.2f round trips/worker/s", c.round_trips_per_worker_s) +
            printf1(" (%.0f s", c.seconds) + (c.binlog ? ", binlog on)" : ", binlog OFF)"),
        "—", peer, "—", ratio_text);
  }
  if (idle.size() == 2 && idle[1].commits > 0) {
    row("6 · idle cluster: every-tick writes ÷ v26 interval", "—", "—", "—", "—",
        printf1("%.1f× the commits", idle[0].commits / idle[1].commits) +
            printf1(", %.1f× the redo", idle[0].redo_bytes / idle[1].redo_bytes) +
            (idle[1].binlog_bytes > 0
                 ? printf1(", %.1f× the binlog", idle[0].binlog_bytes / idle[1].binlog_bytes)
                 : std::string()));
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "qtopology_bench: " << e.what() << "\n";
  return 1;
}
