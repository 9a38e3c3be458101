// The one way the library runs a db/*.sql script: migrations, clear and
// reset, and the tests' arrangements.
#pragma once

#include <functional>

#include "core/logging.hpp"
#include "embedded_scripts.hpp"
#include "retry_policy.hpp"

namespace sql {
class Connection;
}
namespace qtopology::detail {

// Runs the script's statements in order on `connection`, dropping any rows
// they return, and calls `after_each` after every statement. A statement that
// fails with a transient error was rolled back whole (each one runs in
// autocommit, or in the caller's transaction when `policy` allows no retry)
// and is run again under `policy`. Throws SchemaError when the script does not
// split into statements, else the classified StorageError naming the script
// and the statement's line: ConnectionError when the session broke.
void runSqlScript(sql::Connection& connection, const EmbeddedScript& script,
                  const RetryPolicy& policy, detail::Log log,
                  const std::function<void()>& after_each = {});

}  // namespace qtopology::detail
