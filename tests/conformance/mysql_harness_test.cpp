// The contract on MySqlCoordinator, and on the interface's default combined
// calls over it: one database per test on the private server. Time passes by
// moving every stored time point into the past, which is what the server's
// clock moving on looks like to the procedures; timeouts other than the
// defaults are written to the database's qtopology_settings.
#include <qtopology/mysql_coordinator.hpp>

#include "basic_calls_storage.hpp"
#include "storage_contract.hpp"
#include "test_database.hpp"

namespace qtopology::conformance {
namespace {

class MySqlHarness {
 public:
  static constexpr bool kDefaults = false;
  // Real time runs on while a test runs, in whole seconds on the server.
  static constexpr std::chrono::seconds kClockSlack{2};

  explicit MySqlHarness(const Timeouts& timeouts) {
    const auto set = [&](const char* name, std::chrono::seconds value) {
      db_.exec("UPDATE qtopology_settings SET value = '" + std::to_string(value.count()) +
               "' WHERE name = '" + name + "'");
    };
    set("worker_dead_timeout_s", timeouts.worker_dead);
    set("leader_timeout_s", timeouts.leader);
    set("waiting_timeout_s", timeouts.waiting);
  }
  virtual ~MySqlHarness() = default;

  virtual CoordinationStorage& storage() { return storage_; }

  void advance(std::chrono::seconds by) {
    const std::string back = " - INTERVAL " + std::to_string(by.count()) + " SECOND";
    db_.exec("UPDATE qtopology_worker SET last_ping = last_ping" + back);
    db_.exec("UPDATE qtopology_topology SET last_ping = last_ping" + back);
    db_.exec("UPDATE qtopology_message SET created = created" + back +
             ", valid_until = valid_until" + back + ", claimed_at = claimed_at" + back);
    db_.exec("UPDATE qtopology_worker_history SET ts = ts" + back);
    db_.exec("UPDATE qtopology_topology_history SET ts = ts" + back);
  }

  // Plain SQL, as an operator or a script would write it; the text as hex,
  // so that any byte reaches the row.
  bool writeForeign(const ForeignTopology& t) {
    db_.exec(
        "INSERT INTO qtopology_topology (uuid, config, status, worker, weight, worker_affinity, "
        "last_ping, error, enabled, pid) VALUES (" +
        testing::sqlBytes(t.uuid) + ", " + testing::sqlBytes(t.config) + ", " +
        testing::sqlBytes(t.status) + ", " +
        (t.worker.empty() ? std::string("NULL") : testing::sqlBytes(t.worker)) + ", " +
        std::to_string(t.weight) + ", " + testing::sqlBytes(t.worker_affinity) + ", NOW(), NULL, " +
        (t.enabled ? "1" : "0") + ", NULL)");
    return true;
  }

  TimePoint now() {
    return TimePoint(std::chrono::seconds(std::stoll(db_.scalar("SELECT UNIX_TIMESTAMP(NOW())"))));
  }

 private:
  testing::TestDatabase db_;
  MySqlCoordinator storage_{db_.options()};
};

class MySqlDefaultsHarness : public MySqlHarness {
 public:
  static constexpr bool kDefaults = true;

  using MySqlHarness::MySqlHarness;
  CoordinationStorage& storage() override { return basic_; }

 private:
  testing::BasicCallsStorage basic_{MySqlHarness::storage()};
};

// One instantiation per harness, so that the test names say which storage.
INSTANTIATE_TYPED_TEST_SUITE_P(MySqlCoordinator, StorageContract, ::testing::Types<MySqlHarness>);
INSTANTIATE_TYPED_TEST_SUITE_P(DefaultsOverMySqlCoordinator, StorageContract,
                               ::testing::Types<MySqlDefaultsHarness>);

}  // namespace
}  // namespace qtopology::conformance
