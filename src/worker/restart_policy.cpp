#include "restart_policy.hpp"

#include <cmath>

namespace qtopology::detail {
namespace {

[[noreturn]] void reject(const std::string& why) {
  throw InvalidArgument("topology config: general.restart" + why);
}

}  // namespace

RestartPolicy restartPolicyOf(const Json& config) {
  RestartPolicy policy;
  if (!config.is_object()) return policy;
  const auto general = config.find("general");
  if (general == config.end() || !general->is_object()) return policy;
  const auto restart = general->find("restart");
  if (restart == general->end() || restart->is_null()) return policy;
  if (!restart->is_object()) reject(" must be an object {max, window_s}, not " + restart->dump());

  const auto max = restart->find("max");
  if (max == restart->end()) reject(".max is missing");
  if (!max->is_number_integer() || max->get<long long>() < 0 || max->get<long long>() > 1000000) {
    reject(".max must be an integer from 0 to 1000000, not " + max->dump());
  }
  const auto window = restart->find("window_s");
  if (window == restart->end()) reject(".window_s is missing");
  if (!window->is_number() || !std::isfinite(window->get<double>()) || window->get<double>() <= 0 ||
      window->get<double>() > 1e9) {
    reject(".window_s must be a positive number of seconds, not " + window->dump());
  }
  policy.max = static_cast<int>(max->get<long long>());
  policy.window = std::chrono::milliseconds(std::llround(window->get<double>() * 1000.0));
  return policy;
}

bool RestartBudget::allow(Clock::time_point now) {
  while (!restarts_.empty() && now - restarts_.front() >= policy_.window) restarts_.pop_front();
  if (static_cast<int>(restarts_.size()) >= policy_.max) return false;
  restarts_.push_back(now);
  return true;
}

}  // namespace qtopology::detail
