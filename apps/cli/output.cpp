#include "output.hpp"

#include <algorithm>
#include <ctime>
#include <sstream>

#include <qtopology/text.hpp>

namespace qtopology::cli {
namespace {

// Display width of UTF-8 text: one column per code point is right for the
// names and statuses we show; continuation bytes take none.
std::size_t width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string formatTime(TimePoint t, bool utc, const char* format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm parts{};
  if (utc) {
    gmtime_r(&seconds, &parts);
  } else {
    localtime_r(&seconds, &parts);
  }
  char text[32];
  std::strftime(text, sizeof text, format, &parts);
  return text;
}

Json optional(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json optional(const std::optional<int>& value) { return value ? Json(*value) : Json(nullptr); }

void fillTopology(Json& j, const TopologyStatus& t) {
  j["uuid"] = t.uuid;
  j["status"] = t.status;
  j["enabled"] = t.enabled;
  j["worker"] = optional(t.worker);
  j["weight"] = t.weight;
  j["worker_affinity"] = t.worker_affinity;
  j["pid"] = optional(t.pid);
  j["error"] = optional(t.error);
  j["invalid"] = nullptr;
  if (!t.invalid) return;
  // Another writer's row may hold anything, bytes JSON cannot carry too:
  // its texts go out escaped.
  const auto escaped = [](const std::optional<std::string>& text) {
    return text ? Json(escapeControl(*text)) : Json(nullptr);
  };
  j["uuid"] = escapeControl(t.uuid);
  j["worker"] = escaped(t.worker);
  j["worker_affinity"] = Json::array();
  for (const auto& name : t.worker_affinity) j["worker_affinity"].push_back(escapeControl(name));
  j["error"] = escaped(t.error);
  j["invalid"] = escapeControl(*t.invalid);
}

}  // namespace

Table::Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void Table::add(std::vector<std::string> row) {
  for (auto& cell : row) {
    // Names and error texts come from the database: a newline or a
    // terminal escape in one must not break the table or reach the
    // terminal.
    cell = cell.empty() ? "-" : escapeControl(cell);
  }
  rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], width(row[c]));
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - width(row[c]) + 2, ' ');
    }
    out << line << "\n";
  }
}

std::string localTime(TimePoint t) { return formatTime(t, false, "%Y-%m-%d %H:%M:%S"); }

std::string utcTime(TimePoint t) { return formatTime(t, true, "%Y-%m-%dT%H:%M:%SZ"); }

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

std::string pidText(const std::optional<int>& pid) { return pid ? std::to_string(*pid) : ""; }

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string workerCell(const TopologyStatus& t, bool last_on) {
  if (!t.worker) return "";
  if (t.status == TopologyState::waiting || t.status == TopologyState::running) return *t.worker;
  return last_on ? "last on " + *t.worker : "";
}

Json toJson(const WorkerStatus& w) {
  return {{"name", w.name},
          {"status", w.status},
          {"lstatus", w.lstatus},
          {"last_ping", utcTime(w.last_ping)},
          {"pid", optional(w.pid)}};
}

Json toJson(const TopologyStatus& t) {
  Json j;
  fillTopology(j, t);
  j["last_ping"] = utcTime(t.last_ping);
  return j;
}

Json toJson(const TopologyInfo& t) {
  Json j = toJson(static_cast<const TopologyStatus&>(t));
  j["config"] = t.config;
  return j;
}

Json toJson(const TopologyStatusHistory& h) {
  Json j;
  j["ts"] = utcTime(h.ts);
  fillTopology(j, h);
  return j;
}

Json toJson(const WorkerStatusHistory& h) {
  return {{"ts", utcTime(h.ts)},
          {"name", h.name},
          {"status", h.status},
          {"lstatus", h.lstatus},
          {"pid", optional(h.pid)}};
}

Json toJson(const MsgQueueItem& m) {
  return {{"worker", m.name},
          {"cmd", m.cmd},
          {"data", m.data},
          {"created", utcTime(m.created)},
          {"valid_until", utcTime(m.valid_until)}};
}

void printJson(std::ostream& out, const Json& document) { out << document.dump(2) << "\n"; }

}  // namespace qtopology::cli
