// Splits a schema script into the statements the server executes one by one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qtopology::detail {

struct SqlStatement {
  std::string text;  // without the terminating delimiter
  int line = 0;      // 1-based line of the statement's first character
};

// Understands what the mysql command-line client understands in our scripts:
// `DELIMITER xx` lines, quoted strings and identifiers ('…', "…", `…`, with
// backslash and doubled-quote escapes), and comments (-- …, # …, /* … */).
// A delimiter inside a string or comment does not end a statement. Throws
// std::invalid_argument on an unterminated string or comment.
std::vector<SqlStatement> splitSqlScript(std::string_view script);

}  // namespace qtopology::detail
