#include <ostream>

#include "commands.hpp"
#include "output.hpp"

namespace qtopology::cli {

void workersCommand(Context& c) {
  const auto workers = c.storage().getWorkerStatus();
  if (c.line.json) {
    Json all = Json::array();
    for (const auto& w : workers) all.push_back(toJson(w));
    return printJson(c.out, all);
  }
  Table table({"NAME", "STATUS", "LEADERSHIP", "PID", "LAST PING"});
  for (const auto& w : workers) {
    table.add(
        {w.name, w.status, w.lstatus, w.pid ? std::to_string(*w.pid) : "", localTime(w.last_ping)});
  }
  table.print(c.out);
}

void shutdownWorkerCommand(Context& c) {
  const auto& name = c.line.args.at(0);
  c.storage().shutDownWorker(name);
  c.done("sent shutdown to worker " + name + " (valid for 60 s)");
}

void deleteWorkerCommand(Context& c) {
  const auto& name = c.line.args.at(0);
  c.storage().deleteWorker(name);
  c.done("deleted worker " + name);
}

void workerHistoryCommand(Context& c) {
  const auto history = c.storage().getWorkerHistory(c.line.args.at(1));
  if (c.line.json) {
    Json all = Json::array();
    for (const auto& h : history) all.push_back(toJson(h));
    return printJson(c.out, all);
  }
  Table table({"TIME", "STATUS", "LEADERSHIP", "PID"});
  for (const auto& h : history) {
    table.add({localTime(h.ts), h.status, h.lstatus, h.pid ? std::to_string(*h.pid) : ""});
  }
  table.print(c.out);
}

}  // namespace qtopology::cli
