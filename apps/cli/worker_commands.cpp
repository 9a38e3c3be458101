#include <ostream>

#include "commands.hpp"
#include "output.hpp"

namespace qtopology::cli {

void workersCommand(Context& c) {
  const auto workers = c.storage().getWorkerStatus();
  if (c.line.json) return printJsonList(c.out, workers);
  Table table({"NAME", "STATUS", "LEADERSHIP", "PID", "LAST PING"});
  for (const auto& w : workers) {
    table.add({w.name, std::string(toString(w.status)), std::string(toString(w.lstatus)),
               pidText(w.pid), localTime(w.last_ping)});
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
  if (c.line.json) return printJsonList(c.out, history);
  Table table({"TIME", "STATUS", "LEADERSHIP", "PID"});
  for (const auto& h : history) {
    table.add({localTime(h.ts), std::string(toString(h.status)), std::string(toString(h.lstatus)),
               pidText(h.pid)});
  }
  table.print(c.out);
}

}  // namespace qtopology::cli
