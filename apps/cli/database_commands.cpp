#include <unistd.h>

#include <iostream>

#include <qtopology/mysql_admin.hpp>

#include "commands.hpp"
#include "output.hpp"

namespace qtopology::cli {
namespace {

std::string where(const MySqlOptions& o) {
  const std::string server =
      o.unix_socket.empty() ? o.host + ":" + std::to_string(o.port) : o.unix_socket;
  return "database '" + o.database + "' on " + server;
}

// The one guard against wiping the wrong database by a slip of the fingers;
// scripts pass --yes.
void confirm(Context& c, const std::string& consequence) {
  if (c.line.yes) return;
  std::cerr << "This " << consequence << " of " << where(c.options())
            << ".\nType 'yes' to continue: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  // A terminal echoed the answer with its newline; piped input did not, and
  // what follows (maybe an error) deserves a line of its own.
  if (!::isatty(STDIN_FILENO)) std::cerr << "\n";
  if (answer != "yes")
    throw CommandError("aborted: not confirmed (pass --yes to skip the question)");
}

}  // namespace

void migrateCommand(Context& c) {
  auto& storage = c.migratedStorage();
  const int version = storage.schemaVersion();
  if (c.line.json) {
    return printJson(c.out, {{"schema_version", version},
                             {"latest_version", MySqlCoordinator::latestSchemaVersion()}});
  }
  c.out << "schema of " << where(c.options()) << " is at version " << version << "\n";
}

void checkCommand(Context& c) {
  // storage() connects in check-only mode: it throws SchemaError unless the
  // schema is exactly at this build's version.
  const auto properties = c.storage().getProperties();
  if (c.line.json) {
    Json all = Json::object();
    for (const auto& p : properties) all[p.key] = p.value;
    all["latest_version"] = MySqlCoordinator::latestSchemaVersion();
    return printJson(c.out, all);
  }
  c.out << "schema is up to date (version " << MySqlCoordinator::latestSchemaVersion() << ")\n";
  Table table({"PROPERTY", "VALUE"});
  for (const auto& p : properties) table.add({p.key, p.value});
  table.print(c.out);
}

void queueCommand(Context& c) {
  const auto queue = c.storage().getMsgQueueContent();
  if (c.line.json) return printJsonList(c.out, queue);
  Table table({"WORKER", "COMMAND", "DATA", "VALID UNTIL", "CREATED"});
  for (const auto& m : queue) {
    table.add({m.name, m.cmd, m.data.dump(), localTime(m.valid_until), localTime(m.created)});
  }
  table.print(c.out);
}

void clearCommand(Context& c) {
  confirm(c, "deletes every worker, topology, message and history row");
  clearStorage(c.options());
  c.done("cleared " + where(c.options()) + " (schema and settings kept)");
}

void resetCommand(Context& c) {
  confirm(c, "drops every qtopology table and procedure, and all their data,");
  resetStorage(c.options());
  c.done("reset " + where(c.options()) + "; 'qtopology-mysql migrate' creates the schema again");
}

}  // namespace qtopology::cli
