#include "dormancy_schedule.hpp"

#include <array>
#include <cctype>

namespace qtopology::worker {
namespace {

struct FieldRule {
  const char* name;
  int low;
  int high;
};

constexpr std::array<FieldRule, 6> kFields = {{{"second", 0, 59},
                                               {"minute", 0, 59},
                                               {"hour", 0, 23},
                                               {"day of month", 1, 31},
                                               {"month", 1, 12},
                                               {"day of week", 0, 6}}};

constexpr std::array<const char*, 7> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// One or two digits, or in the day-of-week field a day's name.
int valueOf(std::string part, std::size_t field, const std::string& whole) {
  for (char& c : part) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (field == 5) {
    for (std::size_t day = 0; day < kDays.size(); ++day) {
      if (part == kDays[day]) return static_cast<int>(day);
    }
  }
  const bool digits = !part.empty() && part.size() <= 2 &&
                      std::isdigit(static_cast<unsigned char>(part[0])) &&
                      std::isdigit(static_cast<unsigned char>(part.back()));
  if (!digits) {
    throw std::invalid_argument(std::string(kFields[field].name) + " field '" + whole +
                                "': not *, N or N-M" + (field == 5 ? " (N 0-6 or sun-sat)" : ""));
  }
  const int value = std::stoi(part);
  if (value < kFields[field].low || value > kFields[field].high) {
    throw std::invalid_argument(std::string(kFields[field].name) + " field '" + whole +
                                "': " + std::to_string(value) + " is outside " +
                                std::to_string(kFields[field].low) + "-" +
                                std::to_string(kFields[field].high));
  }
  return value;
}

}  // namespace

DormancySchedule::DormancySchedule(const std::string& text) : text_(text) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  for (;;) {
    const auto space = text.find(' ', begin);
    parts.push_back(
        text.substr(begin, space == std::string::npos ? std::string::npos : space - begin));
    if (space == std::string::npos) break;
    begin = space + 1;
  }
  if (parts.size() != kFields.size()) {
    throw std::invalid_argument(
        "needs six fields split by single spaces (second minute hour day-of-month month "
        "day-of-week), not " +
        std::to_string(parts.size()));
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part == "*") {
      fields_.emplace_back(-1, -1);
      continue;
    }
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      const int value = valueOf(part, i, part);
      fields_.emplace_back(value, value);
      continue;
    }
    const int low = valueOf(part.substr(0, dash), i, part);
    const int high = valueOf(part.substr(dash + 1), i, part);
    if (low > high) {
      throw std::invalid_argument(std::string(kFields[i].name) + " field '" + part +
                                  "': the range ends before it starts");
    }
    fields_.emplace_back(low, high);
  }
}

bool DormancySchedule::includes(const std::tm& local) const {
  const std::array<int, 6> values = {local.tm_sec,  local.tm_min,     local.tm_hour,
                                     local.tm_mday, local.tm_mon + 1, local.tm_wday};
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto [low, high] = fields_[i];
    if (low >= 0 && (values[i] < low || values[i] > high)) return false;
  }
  return true;
}

bool DormancySchedule::includesNow() const {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  return includes(local);
}

}  // namespace qtopology::worker
