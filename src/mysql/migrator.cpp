#include "migrator.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include "core/logging.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include <qtopology/coordination_storage.hpp>

#include "script_runner.hpp"
#include "server_errors.hpp"

namespace qtopology::detail {
namespace {

constexpr auto kLockWaitLimit = std::chrono::minutes(5);
// While another process migrates: poll the lock at growing intervals, up to
// one second apart.
constexpr auto kLongestLockPoll = std::chrono::milliseconds(1000);

// The caller's exception for a failed step: the session broke, or the schema
// work itself failed.
[[noreturn]] void raise(const ServerFailure& failure, const std::string& what) {
  if (failure.kind == ErrorClass::connection_lost) {
    std::rethrow_exception(failure.toStorageError("migration: " + what));
  }
  throw SchemaError(
      what + " failed: server error " + std::to_string(failure.code) + ": " + failure.what(),
      failure.code, failure.sqlstate);
}

}  // namespace

int latestVersionOf(const std::vector<EmbeddedScript>& upgrades) {
  int latest = 0;
  for (const auto& script : upgrades) latest = std::max(latest, script.version);
  return latest;
}

std::vector<int> replacedVersions(const EmbeddedScript& script) {
  static constexpr std::string_view kMarker = "\n-- replaces:";
  std::vector<int> versions;
  const std::string_view text = script.text;
  const auto at = text.find(kMarker);
  if (at == std::string_view::npos) return versions;
  const auto begin = at + kMarker.size();
  const std::string_view line = text.substr(begin, text.find('\n', begin) - begin);
  const char* cursor = line.data();
  const char* const end = line.data() + line.size();
  while (cursor != end) {
    if (*cursor == ' ') {
      ++cursor;
      continue;
    }
    int version = 0;
    const auto [next, error] = std::from_chars(cursor, end, version);
    if (error != std::errc() || version < kBaselineVersion || version >= script.version) {
      throw SchemaError(std::string(script.name) + ": the replaces line must list versions from " +
                        std::to_string(kBaselineVersion) + " up to below its own");
    }
    versions.push_back(version);
    cursor = next;
  }
  return versions;
}

bool skipsScript(const std::vector<EmbeddedScript>& upgrades, int version,
                 const EmbeddedScript& script) {
  if (script.version <= version) return true;
  for (const auto& later : upgrades) {
    if (later.version <= version) continue;
    const auto replaced = replacedVersions(later);
    if (std::find(replaced.begin(), replaced.end(), script.version) != replaced.end()) return true;
  }
  return false;
}

Migrator::Migrator(sql::Connection& connection, detail::Log log, RetryPolicy policy,
                   std::string lock_token, std::vector<EmbeddedScript> upgrades)
    : connection_(connection),
      log_(log),
      policy_(std::move(policy)),
      upgrades_(std::move(upgrades)),
      lock_token_(std::move(lock_token)) {
  std::sort(upgrades_.begin(), upgrades_.end(),
            [](const EmbeddedScript& a, const EmbeddedScript& b) { return a.version < b.version; });
}

template <typename Step>
auto Migrator::guarded(const std::string& what, Step&& step) -> decltype(step()) {
  try {
    return policy_.run<ServerFailure>(
        [&] {
          try {
            return step();
          } catch (const sql::SQLException& e) {
            throw ServerFailure::from(e);
          }
        },
        [](const ServerFailure& failure) { return failure.kind == ErrorClass::transient; },
        [&](const ServerFailure& failure, int retry, std::chrono::milliseconds wait) {
          log_.warn(
              "qtopology: migration: {} failed with server error {} ({}); retry {}/{} in {} ms",
              what, failure.code, failure.what(), retry, policy_.retries(), wait.count());
        });
  } catch (const ServerFailure& failure) {
    raise(failure, what);
  }
}

int Migrator::readVersion() {
  const std::string value = guarded("reading the schema version", [&]() -> std::string {
    std::unique_ptr<sql::Statement> statement(connection_.createStatement());
    try {
      std::unique_ptr<sql::ResultSet> rs(statement->executeQuery(
          "SELECT value FROM qtopology_settings WHERE name = 'db_version'"));
      return rs->next() ? std::string(rs->getString(1)) : std::string();
    } catch (const sql::SQLException& e) {
      if (e.getErrorCode() == 1146) return std::string();  // no such table: never initialised
      throw;
    }
  });
  if (value.empty()) return -1;
  int version = -1;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (error != std::errc() || end != value.data() + value.size() || version < 0) {
    throw SchemaError("qtopology_settings.db_version holds '" + value + "', not a version number");
  }
  return version;
}

void Migrator::refuseLegacy(int version) const {
  if (version >= 1 && version < kBaselineVersion) {
    throw SchemaError("database schema is at version " + std::to_string(version) +
                      ", made by an old release of the Node package qtopology-mysql; this "
                      "library upgrades from version " +
                      std::to_string(kBaselineVersion) +
                      " (qtopology-mysql 2.2.x). Upgrade it with that package first.");
  }
}

int Migrator::check() {
  const int version = readVersion();
  const int latest = latestVersion();
  if (version != latest) {
    throw SchemaError(
        "schema check: database is at version " +
        (version < 0 ? std::string("none (not initialised)") : std::to_string(version)) +
        ", this library needs exactly version " + std::to_string(latest));
  }
  return version;
}

// The lock is a row, not GET_LOCK(): named locks are local to one Galera
// node, while a row insert conflicts cluster-wide. The row carries its
// holder's token and the server time at which it expires, so a holder that
// died mid-migration blocks the others for one lease at most.
bool Migrator::tryLock() {
  const std::string lease = std::to_string(kLockLease.count());
  const bool inserted = guarded("taking the migration lock", [&] {
    std::unique_ptr<sql::PreparedStatement> insert(connection_.prepareStatement(
        "INSERT INTO qtopology_settings(name, value) "
        "VALUES ('migration_lock', CONCAT(?, ' ', UNIX_TIMESTAMP() + " +
        lease + "))"));
    insert->setString(1, lock_token_);
    try {
      insert->executeUpdate();
      return true;
    } catch (const sql::SQLException& e) {
      // 1062: somebody holds it; 1213: a Galera peer inserted it at the same time.
      if (e.getErrorCode() != 1062 && e.getErrorCode() != 1213) throw;
      return false;
    }
  });
  if (inserted) return true;
  // Expired, or ours already (this migration, restarted on a new session).
  const int taken = guarded("taking over the migration lock", [&] {
    std::unique_ptr<sql::PreparedStatement> takeover(connection_.prepareStatement(
        "UPDATE qtopology_settings SET value = CONCAT(?, ' ', UNIX_TIMESTAMP() + " + lease +
        ") WHERE name = 'migration_lock' "
        "AND (CAST(SUBSTRING_INDEX(value, ' ', -1) AS UNSIGNED) < UNIX_TIMESTAMP() "
        "OR value LIKE ?)"));
    takeover->setString(1, lock_token_);
    takeover->setString(2, lock_token_ + " %");
    try {
      return takeover->executeUpdate();
    } catch (const sql::SQLException& e) {
      if (e.getErrorCode() != 1213) throw;  // a Galera peer took it over at the same time
      return 0;
    }
  });
  if (taken == 1) {
    log_.warn("qtopology: took over the migration lock (expired, or left by this process)");
    return true;
  }
  // An update that changes nothing counts no row: ours, renewed this second?
  return ownsLock();
}

bool Migrator::ownsLock() {
  return guarded("checking the migration lock", [&] {
    std::unique_ptr<sql::PreparedStatement> owned(connection_.prepareStatement(
        "SELECT 1 FROM qtopology_settings WHERE name = 'migration_lock' AND value LIKE ?"));
    owned->setString(1, lock_token_ + " %");
    std::unique_ptr<sql::ResultSet> rs(owned->executeQuery());
    return rs->next();
  });
}

void Migrator::renewLock() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_renewal_ < kLockLease / 6) return;
  last_renewal_ = now;
  guarded("renewing the migration lock", [&] {
    std::unique_ptr<sql::PreparedStatement> renew(connection_.prepareStatement(
        "UPDATE qtopology_settings SET value = CONCAT(?, ' ', UNIX_TIMESTAMP() + " +
        std::to_string(kLockLease.count()) + ") WHERE name = 'migration_lock' AND value LIKE ?"));
    renew->setString(1, lock_token_);
    renew->setString(2, lock_token_ + " %");
    renew->executeUpdate();
  });
  // The update's row count cannot tell "still ours" from "gone": ask.
  if (!ownsLock()) throw SchemaError("lost the migration lock to another process mid-migration");
}

// The new version and the file's audit row commit together: a process killed
// between the two would otherwise leave the next one unable to tell whether
// the file ran. The audit INSERT is plain, so a file applied twice fails loudly.
void Migrator::recordApplied(const EmbeddedScript& script) {
  guarded("recording " + std::string(script.name) + " as applied", [&] {
    std::unique_ptr<sql::Statement> transaction(connection_.createStatement());
    transaction->execute("START TRANSACTION");
    try {
      std::unique_ptr<sql::PreparedStatement> bump(connection_.prepareStatement(
          "UPDATE qtopology_settings SET value = ? WHERE name = 'db_version'"));
      bump->setString(1, std::to_string(script.version));
      bump->executeUpdate();
      std::unique_ptr<sql::PreparedStatement> audit(connection_.prepareStatement(
          "INSERT INTO qtopology_settings(name, value) "
          "VALUES (CONCAT('schema_file:', ?), CONCAT('applied ', NOW(), ' by ', ?))"));
      audit->setString(1, std::string(script.name));
      audit->setString(2, lock_token_);
      audit->executeUpdate();
      transaction->execute("COMMIT");
    } catch (const sql::SQLException&) {
      try {
        transaction->execute("ROLLBACK");
      } catch (const sql::SQLException&) {
        // A dead session rolls back by itself.
      }
      throw;
    }
  });
}

void Migrator::unlock() {
  guarded("releasing the migration lock", [&] {
    std::unique_ptr<sql::PreparedStatement> release(connection_.prepareStatement(
        "DELETE FROM qtopology_settings WHERE name = 'migration_lock' AND value LIKE ?"));
    release->setString(1, lock_token_ + " %");
    release->executeUpdate();
  });
}

int Migrator::migrate() {
  const int latest = latestVersion();
  int version = readVersion();
  if (version == latest) return version;  // the common case costs one query
  if (version > latest) {
    log_.warn(
        "qtopology: database schema version {} is newer than this library's {}; "
        "applying nothing",
        version, latest);
    return version;
  }
  refuseLegacy(version);

  runSqlScript(connection_, namedScript("init.sql"), policy_, log_);
  const auto give_up_at = std::chrono::steady_clock::now() + kLockWaitLimit;
  const RetryPolicy lock_poll(std::numeric_limits<int>::max(), kLongestLockPoll);
  for (int polls = 0; !tryLock(); ++polls) {
    if (readVersion() == latest) return latest;  // a peer finished the work
    if (std::chrono::steady_clock::now() > give_up_at) {
      throw SchemaError("waited " + std::to_string(kLockWaitLimit.count()) +
                        " min for the migration lock held by another process");
    }
    lock_poll.sleep(lock_poll.delay(polls));
  }

  try {
    last_renewal_ = std::chrono::steady_clock::now();
    version = readVersion();
    refuseLegacy(version);
    const int from = version;
    for (const auto& script : upgrades_) {
      if (script.version <= from) continue;
      if (skipsScript(upgrades_, from, script)) {
        log_.info("qtopology: skipping {}: a later script replaces it", script.name);
        continue;
      }
      log_.info("qtopology: applying {} (schema {} -> {})", script.name, version, script.version);
      try {
        runSqlScript(connection_, script, policy_, log_, [this] { renewLock(); });
      } catch (const StorageError& e) {
        const std::string text =
            "migration stopped at version " + std::to_string(version) + ": " + e.what();
        if (dynamic_cast<const ConnectionError*>(&e)) {
          throw ConnectionError(text, e.code(), e.sqlstate());
        }
        throw SchemaError(text, e.code(), e.sqlstate());
      }
      recordApplied(script);
      version = script.version;
    }
    unlock();
  } catch (...) {
    try {
      unlock();
    } catch (const StorageError&) {
      // The lease expires by itself, or this migration's token takes it back.
    }
    throw;
  }
  return version;
}

}  // namespace qtopology::detail
