// qtopology-worker --dormant SCHEDULE: when the worker lies dormant, in the
// format of Node qtopology's is_dormant_period option (its CronTabParser):
// six fields split by single spaces, second, minute, hour, day of month,
// month (1-12), day of week (0-6, 0 Sunday, or sun..sat); each "*", "N" or
// "N-M" (inclusive). A time is inside when every field matches, in local
// time. "* * 1-5 * * *": every night from 01:00:00 to 05:59:59.
//
// Stricter than qtopology: a value outside its field's range, a reversed
// range or anything after the number is refused, where qtopology's check
// lets some of them through and never matches them.
#pragma once

#include <ctime>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace qtopology::worker {

class DormancySchedule {
 public:
  // Throws std::invalid_argument naming the bad field.
  explicit DormancySchedule(const std::string& text);
  bool includes(const std::tm& local) const;
  // Now, in local time.
  bool includesNow() const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  // Per field: {low, high}, or {-1, -1} for "*".
  std::vector<std::pair<int, int>> fields_;
};

}  // namespace qtopology::worker
