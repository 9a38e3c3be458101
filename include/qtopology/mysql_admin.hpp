// Whole-database operations for operators' tools: emptying or dropping the
// coordination storage. Workers never need these; a CLI or a test does.
#pragma once

#include <qtopology/export.hpp>
#include <qtopology/mysql_options.hpp>

namespace qtopology {

// Deletes every worker, topology, message and history row (db/clear.sql) in
// one transaction. Schema, schema version and settings (timeouts) stay. A
// cluster that is still running re-registers its workers at their next ping.
// Throws ConnectionError when the server cannot be reached, StorageError
// (naming the statement and server error) otherwise. Safe to repeat.
QTOPOLOGY_EXPORT void clearStorage(const MySqlOptions& options);

// Drops every qtopology table and procedure (db/reset.sql), including those of
// old Node releases. The next MySqlCoordinator built on the database creates
// the schema again. Throws like clearStorage. Safe to repeat.
QTOPOLOGY_EXPORT void resetStorage(const MySqlOptions& options);

}  // namespace qtopology
