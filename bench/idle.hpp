// (6) What an idle cluster writes, on a binary-logged server: N real
// TopologyWorkers with nothing to run, ticking once a second, measured by the
// server's own counters. Twice in one run: with heartbeat_write_interval_s =
// 0 (every heartbeat writes its ping, as schema v25's heartbeat did) and with
// the setting absent (v26's default interval).
#pragma once

#include <string>
#include <vector>

#include "scenarios.hpp"

namespace bench {

struct IdleCost {
  std::string label;
  int workers = 0;
  double seconds = 0;
  bool binlog = false;  // the server logs binary; else the binlog figures are 0
  // Per worker per day, from the server's counters over the window:
  // Binlog_commits, Innodb_lsn_current, Binlog_bytes_written.
  double commits = 0;
  double redo_bytes = 0;
  double binlog_bytes = 0;
  double round_trips_per_worker_s = 0;  // Questions
};

std::vector<IdleCost> runIdle(const Target& target, int workers, double seconds);

}  // namespace bench
