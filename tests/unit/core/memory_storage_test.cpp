// What MemoryStorage has beyond the storage contract (tests/conformance runs
// that on it): its options. And the worker's restart policy.
#include <gtest/gtest.h>

#include <qtopology/memory_storage.hpp>

#include "worker/restart_policy.hpp"
#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

TEST(MemoryStorageOptions, PropertiesIncludeTheConfiguredOnesAndTimeoutsMustBePositive) {
  MemoryStorageOptions o;
  o.properties.push_back({"rebalance_interval_s", "60"});
  MemoryStorage with(o);
  const auto properties = with.getProperties();
  EXPECT_EQ(properties.front().value, "MemoryStorage");
  EXPECT_EQ(properties.back().key, "rebalance_interval_s");
  o.leader_timeout = 0ms;
  EXPECT_THROW(MemoryStorage{o}, InvalidArgument);
}

// --- restart policy --------------------------------------------------------------

TEST(RestartPolicy, AbsentMeansNever) {
  EXPECT_EQ(detail::restartPolicyOf(Json::object()).max, 0);
  EXPECT_EQ(detail::restartPolicyOf(Json{{"general", {{"weight", 1}}}}).max, 0);
}

TEST(RestartPolicy, MalformedFieldsAreNamed) {
  const auto message = [](Json restart) {
    try {
      detail::restartPolicyOf(Json{{"general", {{"restart", restart}}}});
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message(Json{{"window_s", 1}}).find("general.restart.max is missing"),
            std::string::npos);
  EXPECT_NE(message(Json{{"max", 1.5}, {"window_s", 1}}).find(".max must be"), std::string::npos);
  EXPECT_NE(message(Json{{"max", 1}, {"window_s", 0}}).find(".window_s must be"),
            std::string::npos);
  EXPECT_NE(message(Json(3)).find("must be an object"), std::string::npos);
}

TEST(RestartPolicy, BudgetRefillsAsTheWindowSlides) {
  detail::RestartBudget budget(
      detail::restartPolicyOf(Json{{"general", {{"restart", {{"max", 2}, {"window_s", 10}}}}}}));
  const std::chrono::steady_clock::time_point t0{};
  EXPECT_TRUE(budget.allow(t0));
  EXPECT_TRUE(budget.allow(t0 + 1s));
  EXPECT_FALSE(budget.allow(t0 + 9s));
  EXPECT_TRUE(budget.allow(t0 + 10s));  // the first one left the window
  EXPECT_FALSE(budget.allow(t0 + 10500ms));
}

}  // namespace
}  // namespace qtopology::testing
