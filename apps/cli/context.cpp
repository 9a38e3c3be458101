#include <ostream>

#include "commands.hpp"
#include "output.hpp"

namespace qtopology::cli {

Context::Context(const CommandLine& line_, MySqlOptions options, std::ostream& out_)
    : line(line_), out(out_), options_(std::move(options)) {}

MySqlCoordinator& Context::storage() {
  if (!storage_) {
    auto options = options_;
    options.db_check_only = true;
    try {
      storage_ = std::make_unique<MySqlCoordinator>(options);
    } catch (const SchemaError& e) {
      throw SchemaError(std::string(e.what()) + " (run 'qtopology-mysql migrate')");
    }
  }
  return *storage_;
}

MySqlCoordinator& Context::migratedStorage() {
  if (!storage_) storage_ = std::make_unique<MySqlCoordinator>(options_);
  return *storage_;
}

void Context::done(const std::string& message) {
  if (line.json) {
    printJson(out, {{"ok", true}});
  } else {
    out << message << "\n";
  }
}

}  // namespace qtopology::cli
