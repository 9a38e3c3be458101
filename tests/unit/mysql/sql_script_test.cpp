#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mysql/sql_script.hpp"

#ifndef QTOPOLOGY_SOURCE_DIR
#error "QTOPOLOGY_SOURCE_DIR must name the repository root"
#endif

namespace {

using qtopology::detail::splitSqlScript;
using qtopology::detail::SqlStatement;

std::vector<std::string> texts(const std::vector<SqlStatement>& statements) {
  std::vector<std::string> out;
  for (const auto& s : statements) out.push_back(s.text);
  return out;
}

std::vector<std::string> split(std::string_view script) { return texts(splitSqlScript(script)); }

using Texts = std::vector<std::string>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

TEST(SplitSqlScript, SplitsPlainStatementsOnSemicolons) {
  EXPECT_EQ(split("create table t (a int);\ninsert into t values (1);\nselect * from t;"),
            (Texts{"create table t (a int)", "insert into t values (1)", "select * from t"}));
}

TEST(SplitSqlScript, DropsEmptyStatementsBetweenDelimiters) {
  EXPECT_EQ(split("select 1;;  ;\n;select 2;"), (Texts{"select 1", "select 2"}));
}

TEST(SplitSqlScript, KeepsSemicolonsInsideDelimiterBlock) {
  const auto statements = split(
      "DELIMITER $$\n"
      "create procedure p()\n"
      "begin\n"
      "  select 1;\n"
      "  select 2;\n"
      "end $$\n"
      "DELIMITER ;\n"
      "select 3;\n");
  EXPECT_EQ(statements,
            (Texts{"create procedure p()\nbegin\n  select 1;\n  select 2;\nend", "select 3"}));
}

TEST(SplitSqlScript, DelimiterCommandIsCaseInsensitive) {
  EXPECT_EQ(split("delimiter //\nselect 1; select 2//\nDeLiMiTeR ;\nselect 3;"),
            (Texts{"select 1; select 2", "select 3"}));
}

TEST(SplitSqlScript, DelimiterCommandMayBeIndented) {
  EXPECT_EQ(split("  DELIMITER $$\nselect 1; select 2$$"), (Texts{"select 1; select 2"}));
}

TEST(SplitSqlScript, DelimiterKeywordNotAtLineStartIsNotACommand) {
  EXPECT_EQ(split("select 1; delimiter $$\nselect 2;"),
            (Texts{"select 1", "delimiter $$\nselect 2"}));
}

TEST(SplitSqlScript, DelimiterKeywordInsideStatementIsNotACommand) {
  EXPECT_EQ(split("select 1\ndelimiter $$\n;select 2;"),
            (Texts{"select 1\ndelimiter $$", "select 2"}));
}

TEST(SplitSqlScript, DelimiterCommandWithoutValueThrows) {
  EXPECT_THROW(split("select 1;\ndelimiter\nselect 2;"), std::invalid_argument);
}

TEST(SplitSqlScript, DelimiterAsPrefixOfLongerWordIsNotACommand) {
  EXPECT_EQ(split("delimiters $$;"), (Texts{"delimiters $$"}));
}

TEST(SplitSqlScript, SemicolonInsideSingleQuotesDoesNotSplit) {
  EXPECT_EQ(split("select 'a;b';select 2;"), (Texts{"select 'a;b'", "select 2"}));
}

TEST(SplitSqlScript, SemicolonInsideDoubleQuotesDoesNotSplit) {
  EXPECT_EQ(split("select \"a;b\";select 2;"), (Texts{"select \"a;b\"", "select 2"}));
}

TEST(SplitSqlScript, SemicolonInsideBackticksDoesNotSplit) {
  EXPECT_EQ(split("select 1 as `a;b`;select 2;"), (Texts{"select 1 as `a;b`", "select 2"}));
}

TEST(SplitSqlScript, BackslashEscapedQuoteDoesNotEndString) {
  EXPECT_EQ(split(R"(select 'it\'s;x', "say \";y";select 2;)"),
            (Texts{R"(select 'it\'s;x', "say \";y")", "select 2"}));
}

TEST(SplitSqlScript, EscapedBackslashBeforeClosingQuoteEndsString) {
  EXPECT_EQ(split(R"(select 'a\\';select 2;)"), (Texts{R"(select 'a\\')", "select 2"}));
}

TEST(SplitSqlScript, DoubledQuotesDoNotEndString) {
  EXPECT_EQ(split("select 'it''s;x', \"a\"\";b\", `c``;d`;select 2;"),
            (Texts{"select 'it''s;x', \"a\"\";b\", `c``;d`", "select 2"}));
}

TEST(SplitSqlScript, BacktickDoesNotTreatBackslashAsEscape) {
  EXPECT_EQ(split("select 1 as `a\\`;select 2;"), (Texts{"select 1 as `a\\`", "select 2"}));
}

TEST(SplitSqlScript, CustomDelimiterInsideStringDoesNotSplit) {
  EXPECT_EQ(split("DELIMITER $$\nselect '$$', \"$$\", `$$`$$\n"),
            (Texts{"select '$$', \"$$\", `$$`"}));
}

TEST(SplitSqlScript, DashDashCommentWithDelimiterIsSkipped) {
  EXPECT_EQ(split("-- drop; everything;\nselect 1; -- trailing; comment\nselect 2;"),
            (Texts{"select 1", "select 2"}));
}

TEST(SplitSqlScript, DashDashAtEndOfInputIsAComment) {
  EXPECT_EQ(split("select 1;\n--"), (Texts{"select 1"}));
}

TEST(SplitSqlScript, DashDashWithoutSpaceIsNotAComment) {
  EXPECT_EQ(split("select 5--1;select 2;"), (Texts{"select 5--1", "select 2"}));
}

TEST(SplitSqlScript, HashCommentWithDelimiterIsSkipped) {
  EXPECT_EQ(split("# a; b;\nselect 1; # c; d\nselect 2;"), (Texts{"select 1", "select 2"}));
}

TEST(SplitSqlScript, BlockCommentWithDelimiterIsSkipped) {
  EXPECT_EQ(split("/* a; b;\n c; */ select 1;"), (Texts{"select 1"}));
}

TEST(SplitSqlScript, BlockCommentSeparatesTokens) {
  EXPECT_EQ(split("select/* ; */1;"), (Texts{"select 1"}));
}

TEST(SplitSqlScript, CommentMarkersInsideStringsAreText) {
  EXPECT_EQ(split("select '-- x', '# y', '/* z';select 2;"),
            (Texts{"select '-- x', '# y', '/* z'", "select 2"}));
}

TEST(SplitSqlScript, DelimiterCommandInsideBlockCommentIsIgnored) {
  EXPECT_EQ(split("/*\nDELIMITER $$\n*/\nselect 1;select 2;"), (Texts{"select 1", "select 2"}));
}

TEST(SplitSqlScript, ReportsLineOfFirstCharacterOfEachStatement) {
  const auto statements = splitSqlScript(
      "select 1;\n"           // 1
      "\n"                    // 2
      "-- comment\n"          // 3
      "/* multi\n"            // 4
      "   line */ select\n"   // 5
      "  'a\nb';\n"           // 6, 7
      "DELIMITER $$\n"        // 8
      "begin\n"               // 9
      "end$$ select 3$$\n");  // 10
  ASSERT_EQ(statements.size(), 4u);
  EXPECT_EQ(statements[0].line, 1);
  EXPECT_EQ(statements[1].line, 5);
  EXPECT_EQ(statements[2].line, 9);
  EXPECT_EQ(statements[3].line, 10);
}

TEST(SplitSqlScript, CountsLinesInsideEscapedNewlines) {
  const auto statements = splitSqlScript("select 'a\\\nb';\nselect 2;");
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[1].line, 3);
}

TEST(SplitSqlScript, KeepsTrailingStatementWithoutDelimiter) {
  EXPECT_EQ(split("select 1;\nselect 2\n"), (Texts{"select 1", "select 2"}));
}

TEST(SplitSqlScript, EmptyInputYieldsNothing) { EXPECT_TRUE(splitSqlScript("").empty()); }

TEST(SplitSqlScript, BlankAndCommentOnlyInputYieldsNothing) {
  EXPECT_TRUE(splitSqlScript("  \n\t\r\n").empty());
  EXPECT_TRUE(splitSqlScript("-- only\n# comments\n/* here */\n").empty());
}

TEST(SplitSqlScript, UnterminatedSingleQuoteThrows) {
  EXPECT_THROW(splitSqlScript("select 'abc;\nselect 2;"), std::invalid_argument);
}

TEST(SplitSqlScript, UnterminatedDoubleQuoteThrows) {
  EXPECT_THROW(splitSqlScript("select \"abc;"), std::invalid_argument);
}

TEST(SplitSqlScript, UnterminatedBacktickThrows) {
  EXPECT_THROW(splitSqlScript("select `abc;"), std::invalid_argument);
}

TEST(SplitSqlScript, TrailingBackslashInStringThrows) {
  EXPECT_THROW(splitSqlScript("select 'abc\\"), std::invalid_argument);
}

TEST(SplitSqlScript, UnterminatedBlockCommentThrows) {
  EXPECT_THROW(splitSqlScript("select 1; /* never closed;\nselect 2;"), std::invalid_argument);
}

// --- the real schema scripts -------------------------------------------------

std::vector<std::filesystem::path> schemaScripts() {
  std::vector<std::filesystem::path> paths;
  const std::filesystem::path dir = std::filesystem::path(QTOPOLOGY_SOURCE_DIR) / "db";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".sql") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SplitSqlScript, SchemaScriptsExist) { EXPECT_FALSE(schemaScripts().empty()); }

TEST(SplitSqlScript, EverySchemaScriptSplitsIntoStatements) {
  for (const auto& path : schemaScripts()) {
    SCOPED_TRACE(path.string());
    const std::string script = readFile(path);
    ASSERT_FALSE(script.empty());
    std::vector<SqlStatement> statements;
    ASSERT_NO_THROW(statements = splitSqlScript(script));
    EXPECT_GE(statements.size(), 1u);
  }
}

TEST(SplitSqlScript, EveryProcedureInSchemaScriptsEndsWithEnd) {
  int procedures = 0;
  for (const auto& path : schemaScripts()) {
    for (const auto& statement : splitSqlScript(readFile(path))) {
      const std::string text = lower(statement.text);
      if (text.rfind("create procedure", 0) != 0) continue;
      ++procedures;
      SCOPED_TRACE(path.string() + ":" + std::to_string(statement.line));
      ASSERT_GE(text.size(), 3u);
      EXPECT_EQ(text.substr(text.size() - 3), "end");
    }
  }
  EXPECT_GT(procedures, 0) << "no create procedure statement found in db/*.sql";
}

}  // namespace
