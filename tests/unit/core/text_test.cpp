// Outside text in log lines and tables: one line, no terminal control.
#include <gtest/gtest.h>

#include <qtopology/text.hpp>

namespace qtopology {
namespace {

TEST(EscapeControl, KeepsPrintableTextAndMultiByteCharacters) {
  EXPECT_EQ(escapeControl("orders-ingest ü 日本 🙂 'x' \"y\""),
            "orders-ingest ü 日本 🙂 'x' \"y\"");
}

TEST(EscapeControl, NewlinesAndTerminalEscapesCannotForgeALine) {
  EXPECT_EQ(escapeControl("a\nb\r\tc"), "a\\nb\\r\\tc");
  EXPECT_EQ(escapeControl("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(escapeControl(std::string("nul\0del\x7f", 8)), "nul\\x00del\\x7f");
}

TEST(EscapeControl, BackslashesAreEscapedSoEscapesStayUnambiguous) {
  EXPECT_EQ(escapeControl("\\n"), "\\\\n");
}

TEST(EscapeControl, BytesThatAreNotUtf8BecomeHexEscapes) {
  EXPECT_EQ(escapeControl("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(escapeControl("\xc0\xaf"), "\\xc0\\xaf");  // overlong '/'
}

TEST(EscapeControl, C1ControlsAreEscapedThoughValidUtf8) {
  EXPECT_EQ(escapeControl("\xc2\x9b"
                          "2J"),
            "\\u009b2J");                            // U+009B, CSI
  EXPECT_EQ(escapeControl("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is text
}

}  // namespace
}  // namespace qtopology
