// The per-topology limit on logged stderr, on a clock the test moves.
#include <gtest/gtest.h>

#include "log_rate_limit.hpp"

namespace qtopology::testing {
namespace {

using worker::LogRateLimit;
using Clock = LogRateLimit::Clock;
using std::chrono::milliseconds;

constexpr std::size_t kLine = 68;  // + kLineOverhead: 100 bytes a line

TEST(LogRateLimit, BurstThenRateThenReportsWhatItDropped) {
  const Clock::time_point t0{};
  LogRateLimit limit(1000, 2000, t0);  // 10 lines a second, 20 at once
  int admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += limit.admit(kLine, t0) ? 1 : 0;
  EXPECT_EQ(admitted, 20);
  // Not reported within the second, unless final.
  EXPECT_FALSE(limit.report(t0 + milliseconds(500), false).has_value());
  const auto dropped = limit.report(t0 + milliseconds(1000), false);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->lines, 30u);
  EXPECT_EQ(dropped->bytes, 30u * kLine);
  EXPECT_FALSE(limit.report(t0 + milliseconds(3000), true).has_value());  // nothing since

  // A second later: ten more lines, not more.
  admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += limit.admit(kLine, t0 + milliseconds(1000)) ? 1 : 0;
  EXPECT_EQ(admitted, 10);
  const auto rest = limit.report(t0 + milliseconds(1000), true);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->lines, 40u);
}

TEST(LogRateLimit, ALineLargerThanTheBucketPassesWhenTheBucketIsFull) {
  const Clock::time_point t0{};
  LogRateLimit limit(100, 100, t0);
  EXPECT_TRUE(limit.admit(5000, t0));
  EXPECT_FALSE(limit.admit(5000, t0 + milliseconds(500)));
  EXPECT_TRUE(limit.admit(5000, t0 + milliseconds(2000)));
}

TEST(LogRateLimit, ZeroMeansNoLimit) {
  const Clock::time_point t0{};
  LogRateLimit limit(0, 0, t0);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(limit.admit(1000, t0));
  EXPECT_FALSE(limit.report(t0, true).has_value());
}

}  // namespace
}  // namespace qtopology::testing
