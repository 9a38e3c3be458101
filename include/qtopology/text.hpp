// Text from outside (names, paths, a child's stderr, error texts, anything
// read from the storage) as it may appear in a log line or a terminal table:
// one line, no terminal control. What the library logs goes through it; a
// host that prints what it reads from the storage wants it too.
#pragma once

#include <string>
#include <string_view>

#include <qtopology/export.hpp>

namespace qtopology {

// Control characters (newline, ESC, DEL, ...) and bytes that are not valid
// UTF-8 become escapes: "\n", "\t", "\r", "\\", else "\xNN", and C1
// controls (U+0080-U+009F) "\u00NN". Printable text, multi-byte characters
// included, is kept as it is.
QTOPOLOGY_EXPORT std::string escapeControl(std::string_view text);

}  // namespace qtopology
