#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include "mysql/retry_policy.hpp"

namespace {

using qtopology::detail::RetryPolicy;
using std::chrono::milliseconds;

struct Transient : std::runtime_error {
  Transient() : std::runtime_error("transient") {}
};
struct Fatal : std::runtime_error {
  Fatal() : std::runtime_error("fatal") {}
};

// A policy that records its waits instead of sleeping, with a fixed jitter.
struct Recorded {
  std::vector<milliseconds> slept;
  RetryPolicy policy(int retries, milliseconds cap, double jitter) {
    return RetryPolicy(
        retries, cap, RetryPolicy::kFirstWait, [this](milliseconds d) { slept.push_back(d); },
        [jitter] { return jitter; });
  }
};

TEST(RetryPolicy, WaitsDoubleFromHalfToAllOfTheBase) {
  Recorded r;
  const auto low = r.policy(10, milliseconds(100000), 0.0);
  const auto high = r.policy(10, milliseconds(100000), 1.0);
  EXPECT_EQ(low.delay(0), milliseconds(25));
  EXPECT_EQ(high.delay(0), milliseconds(50));
  EXPECT_EQ(low.delay(3), milliseconds(200));
  EXPECT_EQ(high.delay(3), milliseconds(400));
}

TEST(RetryPolicy, WaitsNeverExceedTheCap) {
  Recorded r;
  const auto policy = r.policy(100, milliseconds(2000), 1.0);
  for (int failures = 0; failures < 100; ++failures) {
    EXPECT_LE(policy.delay(failures), milliseconds(2000)) << failures;
  }
  EXPECT_EQ(policy.delay(99), milliseconds(2000));
}

TEST(RetryPolicy, RealJitterSpreadsWaitsWithinTheRange) {
  const RetryPolicy policy(5, milliseconds(100000));
  std::vector<milliseconds> seen;
  for (int i = 0; i < 200; ++i) {
    const auto wait = policy.delay(4);  // base 800 ms
    EXPECT_GE(wait, milliseconds(400));
    EXPECT_LE(wait, milliseconds(800));
    seen.push_back(wait);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_GT(seen.back() - seen.front(), milliseconds(100)) << "no jitter";
}

// Runs a step that always throws `Thrown` under `policy`, retrying Transient
// when `retriable`; returns how often the step ran and which retries were
// reported. Expects `Thrown` to come out in the end.
template <typename Thrown>
std::pair<int, std::vector<int>> alwaysFailing(const RetryPolicy& policy, bool retriable) {
  int tries = 0;
  std::vector<int> reported;
  EXPECT_THROW(policy.run<Transient>(
                   [&] {
                     ++tries;
                     throw Thrown();
                   },
                   [&](const Transient&) { return retriable; },
                   [&](const Transient&, int retry, milliseconds) { reported.push_back(retry); }),
               Thrown);
  return {tries, reported};
}

TEST(RetryPolicy, RetriesARetriableFailureUpToTheBudgetThenRethrows) {
  Recorded r;
  const auto [tries, reported] =
      alwaysFailing<Transient>(r.policy(3, milliseconds(2000), 0.5), true);
  EXPECT_EQ(tries, 4);  // the first try and three retries
  EXPECT_EQ(reported, (std::vector<int>{1, 2, 3}));
  ASSERT_EQ(r.slept.size(), 3u);
  EXPECT_LT(r.slept[0], r.slept[1]);
  EXPECT_LT(r.slept[1], r.slept[2]);
}

TEST(RetryPolicy, ReturnsTheFirstSuccess) {
  Recorded r;
  const auto policy = r.policy(5, milliseconds(2000), 0.5);
  int tries = 0;
  const int result = policy.run<Transient>(
      [&] {
        if (++tries < 3) throw Transient();
        return 42;
      },
      [](const Transient&) { return true; }, [](const Transient&, int, milliseconds) {});
  EXPECT_EQ(result, 42);
  EXPECT_EQ(tries, 3);
  EXPECT_EQ(r.slept.size(), 2u);
}

TEST(RetryPolicy, ANonRetriableFailureIsNotRetried) {
  Recorded r;
  EXPECT_EQ(alwaysFailing<Transient>(r.policy(5, milliseconds(2000), 0.5), false).first, 1);
  EXPECT_TRUE(r.slept.empty());
}

TEST(RetryPolicy, OtherExceptionsPassThroughAtOnce) {
  Recorded r;
  EXPECT_EQ(alwaysFailing<Fatal>(r.policy(5, milliseconds(2000), 0.5), true).first, 1);
  EXPECT_TRUE(r.slept.empty());
}

TEST(RetryPolicy, ZeroRetriesTriesOnce) {
  Recorded r;
  const auto policy = r.policy(0, milliseconds(2000), 0.5);
  EXPECT_FALSE(policy.nextWait(0).has_value());
  EXPECT_EQ(alwaysFailing<Transient>(policy, true).first, 1);
}

}  // namespace
