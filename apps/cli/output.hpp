// How the CLI shows storage records: aligned tables for people, JSON for
// scripts.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::cli {

// Columns padded to their widest cell, control characters in cells escaped
// (escapeControl). An empty cell shows as "-", so the
// leading single-word columns can be picked out by field number (awk); times
// and free text, which contain spaces, go last.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void add(std::vector<std::string> row);
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // headers first
};

// Local time, "2024-05-01 14:03:07", for tables.
std::string localTime(TimePoint t);
// UTC, "2024-05-01T12:03:07Z", for JSON.
std::string utcTime(TimePoint t);
std::string number(double value);
std::string pidText(const std::optional<int>& pid);  // "" when unknown
std::string joined(const std::vector<std::string>& items);

// A topology's worker as tables show it: its worker while it is waiting or
// running there, else "" (the storage keeps the worker a topology last ran
// on; that is not where it runs). With `last_on`, a topology that is not
// running says "last on NAME" instead.
std::string workerCell(const TopologyStatus& t, bool last_on = false);

Json toJson(const WorkerStatus& w);
Json toJson(const TopologyStatus& t);
Json toJson(const TopologyInfo& t);
Json toJson(const TopologyStatusHistory& h);
Json toJson(const WorkerStatusHistory& h);
Json toJson(const MsgQueueItem& m);

// Prints a JSON document on its own line.
void printJson(std::ostream& out, const Json& document);

// Prints records as one JSON array, each as toJson() shows it.
template <typename Records>
void printJsonList(std::ostream& out, const Records& records) {
  Json all = Json::array();
  for (const auto& record : records) all.push_back(toJson(record));
  printJson(out, all);
}

}  // namespace qtopology::cli
