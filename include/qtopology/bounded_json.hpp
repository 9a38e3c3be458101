// Parsing JSON that comes from someone else (a request body, a file, a
// database column) without letting its shape decide how much memory or stack
// the program spends: nesting depth and the number of values are bounded
// while the text is read, before a deep or huge document exists in memory.
// The library reads stored configs with it; a host that takes topology
// configs from files or requests wants it too.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/export.hpp>

namespace qtopology {

struct JsonLimits {
  // Objects and arrays inside one another; the outermost is level 1. A
  // topology config needs a handful.
  std::size_t max_depth = 64;
  // Values of any kind (objects, arrays, strings, numbers, ...), keys not
  // counted.
  std::size_t max_values = 100000;
};

// Text that is not JSON, or JSON past a limit. what() says which, and for a
// syntax error the reason, never the offending text itself.
class QTOPOLOGY_EXPORT JsonInputError : public std::invalid_argument {
 public:
  JsonInputError(const std::string& what, std::size_t byte, bool over_limit)
      : std::invalid_argument(what), byte_(byte), over_limit_(over_limit) {}
  // For a syntax error: the 0-based offset of the offending byte; for a
  // limit, where reading stopped (approximate).
  std::size_t byte() const noexcept { return byte_; }
  bool overLimit() const noexcept { return over_limit_; }

 private:
  std::size_t byte_;
  bool over_limit_;
};

// Parses `text`, enforcing `limits` as it goes. `allow_comments`: /* */ and //
// comments, as QTopology allows them in topology files. Thread-safe; throws
// JsonInputError (std::bad_alloc aside).
QTOPOLOGY_EXPORT Json parseBoundedJson(std::string_view text, const JsonLimits& limits = {},
                                       bool allow_comments = false);

}  // namespace qtopology
