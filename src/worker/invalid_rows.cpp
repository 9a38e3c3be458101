#include "invalid_rows.hpp"

#include <algorithm>

#include <qtopology/text.hpp>
#include "core/validation.hpp"

namespace qtopology::detail {
namespace {

// A storage's rows are at most 100-character uuids; another storage's may
// be anything, and the key must stay small.
constexpr std::size_t kKeyBytes = 1024;

}  // namespace

void InvalidRows::takeOut(std::vector<TopologyStatus>& topologies, const Log& log,
                          const std::string& who) {
  std::set<std::string> seen;
  std::size_t unlisted = 0;
  const auto invalid = [&](const TopologyStatus& t) {
    auto problem = t.invalid ? t.invalid : topologyRowProblem(t);
    if (!problem) return false;
    if (seen.size() >= kRemembered) {
      ++unlisted;
      return true;
    }
    auto key = (t.uuid + '\n' + *problem).substr(0, kKeyBytes);
    if (!logged_.count(key)) {
      log.warn("worker {} (leader): topology {} is not placed: its row is invalid ({})", who,
               escapeControl(t.uuid), escapeControl(*problem));
    }
    seen.insert(std::move(key));
    return true;
  };
  topologies.erase(std::remove_if(topologies.begin(), topologies.end(), invalid), topologies.end());
  if (unlisted > 0 && unlisted != unlisted_) {
    log.warn("worker {} (leader): {} more topologies are not placed: their rows are invalid", who,
             unlisted);
  }
  unlisted_ = unlisted;
  logged_ = std::move(seen);
}

}  // namespace qtopology::detail
