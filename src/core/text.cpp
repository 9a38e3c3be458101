#include <qtopology/text.hpp>

#include "validation.hpp"

namespace qtopology {

std::string escapeControl(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80) {
      const std::size_t length = detail::utf8SequenceLength(text, i);
      // U+0080-U+009F, C1 controls: some terminals take U+009B for ESC [.
      const bool c1_control =
          length == 2 && byte == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
      if (c1_control) {
        const auto code = static_cast<unsigned char>(text[i + 1]);
        out += "\\u00";
        out += kHex[code >> 4];
        out += kHex[code & 0xF];
        i += 2;
        continue;
      }
      if (length > 0) {
        out.append(text.substr(i, length));
        i += length;
        continue;
      }
    }
    ++i;
    switch (byte) {
      case '\n':
        out += "\\n";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      default:
        break;
    }
    if (byte < 0x20 || byte >= 0x7F) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += static_cast<char>(byte);
    }
  }
  return out;
}

}  // namespace qtopology
