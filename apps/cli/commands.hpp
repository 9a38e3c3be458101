// The CLI's subcommands. Each gets the parsed command line (arguments already
// counted) and writes its result to standard output; failures are thrown:
// StorageError and CommandError end with exit code 1, UsageError with 2.
#pragma once

#include <iosfwd>
#include <memory>

#include <qtopology/mysql_coordinator.hpp>

#include "command_line.hpp"

namespace qtopology::cli {

class Context {
 public:
  Context(const CommandLine& line, MySqlOptions options, std::ostream& out);

  const CommandLine& line;
  std::ostream& out;
  const MySqlOptions& options() const { return options_; }

  // Connects on first use. Only checks the schema version: a read or a
  // topology change never migrates a database behind an operator's back.
  MySqlCoordinator& storage();
  // Connects and brings the schema up to date (the `migrate` command).
  MySqlCoordinator& migratedStorage();

  // Prints {"ok": true} for --json, else `message`.
  void done(const std::string& message);

 private:
  MySqlOptions options_;
  std::unique_ptr<MySqlCoordinator> storage_;
};

// database_commands.cpp
void migrateCommand(Context& c);
void checkCommand(Context& c);
void queueCommand(Context& c);
void clearCommand(Context& c);
void resetCommand(Context& c);

// worker_commands.cpp
void workersCommand(Context& c);
void shutdownWorkerCommand(Context& c);
void deleteWorkerCommand(Context& c);
void workerHistoryCommand(Context& c);  // history worker <name>

// topology_commands.cpp
void listCommand(Context& c);
void detailsCommand(Context& c);
void registerCommand(Context& c);
void exportCommand(Context& c);
void enableCommand(Context& c);
void disableCommand(Context& c);
void stopCommand(Context& c);
void killCommand(Context& c);
void deleteCommand(Context& c);
void clearErrorCommand(Context& c);
void setErrorCommand(Context& c);
void topologyHistoryCommand(Context& c);  // history topology <uuid>

// settings_command.cpp: settings, or settings <name> <value>
void settingsCommand(Context& c);

// dashboard/dashboard_command.cpp
void dashboardCommand(Context& c);

}  // namespace qtopology::cli
