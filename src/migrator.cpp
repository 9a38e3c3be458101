#include "migrator.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include <qtopology/coordination_storage.hpp>

#include "random_key.hpp"
#include "sql_script.hpp"

namespace qtopology::detail {
namespace {

constexpr auto kLockWaitLimit = std::chrono::minutes(5);

std::string describe(const sql::SQLException& e) {
  return "server error " + std::to_string(e.getErrorCode()) + ": " + e.what();
}

}  // namespace

Migrator::Migrator(sql::Connection& connection, spdlog::logger& log,
                   std::vector<EmbeddedScript> upgrades)
    : connection_(connection), log_(log), upgrades_(std::move(upgrades)), lock_token_(randomKey()) {
  std::sort(upgrades_.begin(), upgrades_.end(),
            [](const EmbeddedScript& a, const EmbeddedScript& b) { return a.version < b.version; });
}

int Migrator::latestVersion() const { return upgrades_.empty() ? 0 : upgrades_.back().version; }

int Migrator::readVersion() {
  try {
    std::unique_ptr<sql::Statement> statement(connection_.createStatement());
    std::unique_ptr<sql::ResultSet> rs(
        statement->executeQuery("SELECT value FROM qtopology_settings WHERE name = 'db_version'"));
    if (!rs->next()) return -1;
    const std::string value = rs->getString(1);
    try {
      std::size_t used = 0;
      const int version = std::stoi(value, &used);
      if (used == value.size() && version >= 0) return version;
    } catch (const std::logic_error&) {
    }
    throw SchemaError("qtopology_settings.db_version holds '" + value + "', not a version number");
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() == 1146) return -1;  // no such table: never initialised
    throw SchemaError("reading the schema version failed: " + describe(e));
  }
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

void Migrator::runScript(const EmbeddedScript& script) {
  std::vector<SqlStatement> statements;
  try {
    statements = splitSqlScript(script.text);
  } catch (const std::invalid_argument& e) {
    throw SchemaError(std::string(script.name) + ": " + e.what());
  }
  std::unique_ptr<sql::Statement> statement(connection_.createStatement());
  for (const auto& s : statements) {
    for (int attempt = 1;; ++attempt) {
      try {
        if (statement->execute(s.text)) {
          std::unique_ptr<sql::ResultSet> ignored(statement->getResultSet());
        }
        break;
      } catch (const sql::SQLException& e) {
        // On Galera, init.sql's INSERT run by starters on two nodes at once
        // fails certification (1213) on one of them. A statement in
        // autocommit that deadlocked was rolled back whole: run it again.
        if (e.getErrorCode() == 1213 && attempt < 10) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
          continue;
        }
        throw SchemaError(std::string(script.name) + ", statement at line " +
                          std::to_string(s.line) + ", failed: " + describe(e));
      }
    }
    if (script.version > 0) renewLock();  // init.sql runs before the lock exists
  }
}

// The lock is a row, not GET_LOCK(): named locks are local to one Galera
// node, while a row insert conflicts cluster-wide. The row carries its
// holder's token and the server time at which it expires, so a holder that
// died mid-migration blocks the others for one lease at most.
bool Migrator::tryLock() {
  const std::string lease = std::to_string(kLockLease.count());
  try {
    std::unique_ptr<sql::PreparedStatement> insert(connection_.prepareStatement(
        "INSERT INTO qtopology_settings(name, value) "
        "VALUES ('migration_lock', CONCAT(?, ' ', UNIX_TIMESTAMP() + " +
        lease + "))"));
    insert->setString(1, lock_token_);
    insert->executeUpdate();
    return true;
  } catch (const sql::SQLException& e) {
    // 1062: somebody holds it; 1213: a Galera peer inserted it at the same time.
    if (e.getErrorCode() != 1062 && e.getErrorCode() != 1213) {
      throw SchemaError("taking the migration lock failed: " + describe(e));
    }
  }
  std::unique_ptr<sql::PreparedStatement> takeover(connection_.prepareStatement(
      "UPDATE qtopology_settings SET value = CONCAT(?, ' ', UNIX_TIMESTAMP() + " + lease +
      ") "
      "WHERE name = 'migration_lock' "
      "AND CAST(SUBSTRING_INDEX(value, ' ', -1) AS UNSIGNED) < UNIX_TIMESTAMP()"));
  takeover->setString(1, lock_token_);
  int taken = 0;
  try {
    taken = takeover->executeUpdate();
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() != 1213) throw;  // a Galera peer took it over at the same time
  }
  if (taken == 1) {
    log_.warn("qtopology: took over an expired migration lock (its holder died mid-migration)");
    return true;
  }
  return false;
}

void Migrator::renewLock() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_renewal_ < kLockLease / 6) return;
  last_renewal_ = now;
  std::unique_ptr<sql::PreparedStatement> renew(connection_.prepareStatement(
      "UPDATE qtopology_settings SET value = CONCAT(?, ' ', UNIX_TIMESTAMP() + " +
      std::to_string(kLockLease.count()) + ") WHERE name = 'migration_lock' AND value LIKE ?"));
  renew->setString(1, lock_token_);
  renew->setString(2, lock_token_ + " %");
  renew->executeUpdate();
  // The update's row count cannot tell "still ours" from "gone": an unchanged
  // value counts as no row changed. Ask.
  std::unique_ptr<sql::PreparedStatement> owned(connection_.prepareStatement(
      "SELECT 1 FROM qtopology_settings WHERE name = 'migration_lock' AND value LIKE ?"));
  owned->setString(1, lock_token_ + " %");
  std::unique_ptr<sql::ResultSet> rs(owned->executeQuery());
  if (!rs->next()) throw SchemaError("lost the migration lock to another process mid-migration");
}

// The new version and the file's audit row commit together: a process killed
// between the two would otherwise leave the next one unable to tell whether
// the file ran. The audit INSERT is plain, so a file applied twice fails loudly.
void Migrator::recordApplied(const EmbeddedScript& script) {
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
  } catch (...) {
    try {
      transaction->execute("ROLLBACK");
    } catch (const sql::SQLException&) {
      // A dead session rolls back by itself.
    }
    throw;
  }
}

void Migrator::unlock() {
  std::unique_ptr<sql::PreparedStatement> release(connection_.prepareStatement(
      "DELETE FROM qtopology_settings WHERE name = 'migration_lock' AND value LIKE ?"));
  release->setString(1, lock_token_ + " %");
  release->executeUpdate();
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

  runScript(namedScript("init.sql"));
  const auto give_up_at = std::chrono::steady_clock::now() + kLockWaitLimit;
  while (!tryLock()) {
    if (readVersion() == latest) return latest;  // a peer finished the work
    if (std::chrono::steady_clock::now() > give_up_at) {
      throw SchemaError("waited " + std::to_string(kLockWaitLimit.count()) +
                        " min for the migration lock held by another process");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  try {
    last_renewal_ = std::chrono::steady_clock::now();
    version = readVersion();
    refuseLegacy(version);
    for (const auto& script : upgrades_) {
      if (script.version <= version) continue;
      log_.info("qtopology: applying {} (schema {} -> {})", script.name, version, script.version);
      try {
        runScript(script);
      } catch (const SchemaError& e) {
        throw SchemaError(std::string("migration stopped at version ") + std::to_string(version) +
                          ": " + e.what());
      }
      recordApplied(script);
      version = script.version;
    }
    unlock();
  } catch (...) {
    try {
      unlock();
    } catch (const sql::SQLException&) {
      // The lease expires by itself.
    }
    throw;
  }
  return version;
}

}  // namespace qtopology::detail
