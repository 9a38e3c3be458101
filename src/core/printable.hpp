// Text from outside (names, paths, a child's stderr, error texts) as it may
// appear in a log line or a terminal table: one line, no terminal control.
#pragma once

#include <string>
#include <string_view>

namespace qtopology::detail {

// Control characters (newline, ESC, DEL, ...) and bytes that are not valid
// UTF-8 become escapes: "\n", "\t", "\r", "\\", else "\xNN", and C1
// controls (U+0080-U+009F) "\u00NN". Printable text, multi-byte characters
// included, is kept as it is.
std::string escapeControl(std::string_view text);

}  // namespace qtopology::detail
