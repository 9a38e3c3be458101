// The one table of the cluster's settings: names, defaults, ranges and what
// each means. The defaults are those the stored procedures fall back on
// (qtopology_sp_setting_int, db/README.md); a test compares the two.
#include <string>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/text.hpp>

namespace qtopology {

const std::vector<SettingSpec>& clusterSettingSpecs() noexcept {
  // The lower bounds keep a cluster workable with one-second ticks: a lease
  // of at least a tick below the dead-worker timeout, a leader judged over
  // more than one heartbeat, claims kept past the client's retry budget.
  static const std::vector<SettingSpec> specs{
      {"worker_dead_timeout_s", 30, 3, 86400,
       "a worker without a ping for this long is dead: the leader gives its topologies to "
       "others; the worker's lease ends two ticks before it"},
      {"leader_timeout_s", 10, 2, 3600,
       "a leader or candidate without a ping for this long loses that status, and the "
       "workers elect another"},
      {"waiting_timeout_s", 30, 2, 86400,
       "a topology assigned to a worker that has not started it for this long is unassigned "
       "again, for the leader to place"},
      {"heartbeat_write_interval_s", 5, 0, 3600,
       "a heartbeat writes the worker's ping only when the stored one is this old (0: every "
       "heartbeat); at most, and when unset, half the shorter of worker_dead_timeout_s and "
       "leader_timeout_s"},
      {"rebalance_interval_s", 3600, 10, 604800,
       "how often the leader rebalances topologies across the workers by itself"},
      {"message_claim_retention_s", 120, 30, 86400,
       "how long a message a worker took is kept, so that a read retried after a lost reply "
       "gets it again"},
  };
  return specs;
}

const SettingSpec* findSettingSpec(std::string_view name) noexcept {
  for (const auto& spec : clusterSettingSpecs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const SettingSpec& checkSetting(std::string_view name, std::int64_t value) {
  const SettingSpec* spec = findSettingSpec(name);
  if (!spec) {
    std::string known;
    for (const auto& s : clusterSettingSpecs()) {
      known += (known.empty() ? "" : ", ") + std::string(s.name);
    }
    throw InvalidArgument("setSetting: unknown setting '" +
                          escapeControl(std::string(name.substr(0, 100))) + "' (known: " + known +
                          ")");
  }
  if (value < spec->min || value > spec->max) {
    throw InvalidArgument("setSetting(" + std::string(spec->name) + "): " + std::to_string(value) +
                          " is out of range: " + std::to_string(spec->min) + " to " +
                          std::to_string(spec->max) + " seconds");
  }
  return *spec;
}

}  // namespace qtopology
