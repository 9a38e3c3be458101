// The measured scenarios, for the library and the C floor.
#pragma once

#include <string>
#include <vector>

#include "raw_client.hpp"
#include "stats.hpp"

namespace bench {

struct Target {
  ServerAddress address;
  std::string url_base;  // mysql://user:password@host:port/  (a database name is appended)
};

// (1) and (2a): one operation, single thread, ours next to the same CALL raw.
struct OpResult {
  std::string key;    // matches the Node script's key
  std::string label;  // what the table shows
  Summary ours;
  Summary floor;
};
// filter: run only the operations whose key contains it (empty: all).
std::vector<OpResult> runPerCall(const Target& target, double scale,
                                 const std::string& filter = "");

// (3): threads sharing one coordinator (pool_size = threads), and as many raw
// sessions, each thread on its own worker row.
struct ConcurrencyResult {
  std::string op;
  int threads = 0;
  Summary ours;
  Summary floor;
};
std::vector<ConcurrencyResult> runConcurrency(const Target& target, double seconds);

// (5)
struct StartupResult {
  double migrate_ms = 0;    // empty database to the latest version
  double construct_ms = 0;  // on an up-to-date database
};
StartupResult runStartup(const Target& target);

// A fresh, empty database.
void recreateDatabase(const Target& target, const std::string& name);

}  // namespace bench
