// The topology rows a leader leaves alone because they fail validation
// (TopologyStatus::invalid, or the library's own checks for a storage that
// does not set it): taken out of what it plans with, and each logged once,
// not once per loop.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "core/logging.hpp"

namespace qtopology::detail {

// Loop thread only.
class InvalidRows {
 public:
  // At most this many rows are remembered, so a table full of bad rows
  // cannot grow the leader's memory. The rows past them (in the storage's
  // order) are logged as one line with their number, when it changes.
  static constexpr std::size_t kRemembered = 1000;

  // Removes the invalid rows from `topologies`. Logs (warn) each one that
  // was not invalid in the previous call: a row fixed and broken again is
  // logged again, a row still bad is not. `who` names the leader in the log.
  void takeOut(std::vector<TopologyStatus>& topologies, const Log& log, const std::string& who);

  std::size_t remembered() const { return logged_.size(); }

 private:
  std::set<std::string> logged_;  // uuid and problem, as keys
  std::size_t unlisted_ = 0;      // beyond kRemembered in the last call
};

}  // namespace qtopology::detail
