// Brings a database to the latest schema version, once, cluster-wide.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/logging.hpp"
#include "embedded_scripts.hpp"
#include "retry_policy.hpp"

namespace sql {
class Connection;
}
namespace qtopology::detail {

// The oldest schema we can upgrade: the one the Node package 2.2.x leaves.
inline constexpr int kBaselineVersion = 17;

// The highest N among the vN.sql scripts; 0 when there are none.
int latestVersionOf(const std::vector<EmbeddedScript>& upgrades);

// The versions a script declares it replaces, in a comment line of its header
// "-- replaces: 19 20 21": it holds all they would do, so a database that has
// not run them yet runs only the replacing script. A frozen script that no
// server accepts any more (a stored function under binary logging) is retired
// this way without being edited. Throws SchemaError for a malformed line.
std::vector<int> replacedVersions(const EmbeddedScript& script);

// Whether a database at `version` skips `script`: older than it, or
// replaced by one of the upgrades it has still to run.
bool skipsScript(const std::vector<EmbeddedScript>& upgrades, int version,
                 const EmbeddedScript& script);

// Every SQL failure ends as a ConnectionError when the session broke (the
// caller may reconnect and migrate again: the scripts are re-runnable), else
// as a SchemaError. Transient failures of single statements are retried
// under `policy` first.
class Migrator {
 public:
  // `lock_token` names this migration in the lock row; a migration restarted
  // on a new session with the same token takes its own lock back instead of
  // waiting for the lease to expire. `upgrades` are the vN.sql scripts (any
  // order); tests pass their own.
  Migrator(sql::Connection& connection, detail::Log log, RetryPolicy policy, std::string lock_token,
           std::vector<EmbeddedScript> upgrades = upgradeScripts());

  int latestVersion() const { return latestVersionOf(upgrades_); }

  // Runs init.sql, then every upgrade newer than the database under the
  // migration lock, bumping db_version after each. Returns the version the
  // database is at. Throws SchemaError for versions 1-16, or naming the
  // failing file and server error (db_version stays at the last good file).
  // A database newer than the library is left alone with a warning.
  int migrate();

  // Changes nothing; throws SchemaError unless the database is at exactly the
  // latest version (ConnectionError when the session breaks). Returns it.
  int check();

  // Current db_version; -1 when the settings table or row is missing.
  int readVersion();

  // How long a migration lock is honoured without being renewed. A process
  // killed mid-migration delays the next one by at most this.
  static constexpr std::chrono::seconds kLockLease{30};

 private:
  // Runs one step of a few statements under the retry policy; `what` names it
  // in the error.
  template <typename Step>
  auto guarded(const std::string& what, Step&& step) -> decltype(step());
  bool tryLock();
  bool ownsLock();
  void renewLock();
  void recordApplied(const EmbeddedScript& script);
  void unlock();
  void refuseLegacy(int version) const;

  sql::Connection& connection_;
  detail::Log log_;
  RetryPolicy policy_;
  std::vector<EmbeddedScript> upgrades_;
  std::string lock_token_;
  std::chrono::steady_clock::time_point last_renewal_;
};

}  // namespace qtopology::detail
