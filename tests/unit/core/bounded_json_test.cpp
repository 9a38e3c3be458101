#include <qtopology/bounded_json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace qtopology {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

JsonInputError errorOf(const std::string& text, const JsonLimits& limits = {},
                       bool comments = false) {
  try {
    parseBoundedJson(text, limits, comments);
  } catch (const JsonInputError& e) {
    return e;
  }
  ADD_FAILURE() << "parsed: " << text.substr(0, 80);
  return JsonInputError("", 0, false);
}

TEST(BoundedJson, ParsesWhatIsWithinTheLimits) {
  EXPECT_EQ(parseBoundedJson(R"({"a": [1, 2, {"b": null}]})"),
            Json({{"a", {1, 2, {{"b", nullptr}}}}}));
  EXPECT_EQ(parseBoundedJson(nested(64)), Json::parse(nested(64)));
  EXPECT_EQ(parseBoundedJson("/* c */ {\"a\": 1} // d", {}, true), Json({{"a", 1}}));
}

TEST(BoundedJson, StopsPastTheDepthWithoutBuildingIt) {
  const auto e = errorOf(nested(65));
  EXPECT_TRUE(e.overLimit());
  EXPECT_STREQ(e.what(), "nested deeper than 64 levels");
  // Deep enough to exhaust the stack of a recursive reader or printer.
  EXPECT_TRUE(errorOf(nested(1000000)).overLimit());
  EXPECT_TRUE(errorOf("{\"a\":" + std::string(100, '[') + "]").overLimit());
  EXPECT_EQ(std::string(errorOf(nested(5, '[', ']'), {4, 100}).what()),
            "nested deeper than 4 levels");
}

TEST(BoundedJson, StopsPastTheValueCount) {
  std::string many = "[";
  for (int i = 0; i < 1000; ++i) many += "1,";
  many += "1]";
  EXPECT_NO_THROW(parseBoundedJson(many, {64, 1002}));
  const auto e = errorOf(many, {64, 1001});
  EXPECT_TRUE(e.overLimit());
  EXPECT_STREQ(e.what(), "more than 1001 values");
  // Keys are not values; objects and strings are.
  EXPECT_NO_THROW(parseBoundedJson(R"({"a": "x", "b": {}})", {64, 3}));
  EXPECT_TRUE(errorOf(R"({"a": "x", "b": {}})", {64, 2}).overLimit());
}

TEST(BoundedJson, SyntaxErrorsSayWhereAndWhyButNotWhat) {
  const auto e = errorOf("{\"a\": tru\x1b[31m}");
  EXPECT_FALSE(e.overLimit());
  EXPECT_EQ(e.byte(), 9u);
  EXPECT_THAT(e.what(), HasSubstr("syntax error while parsing value"));
  EXPECT_THAT(e.what(), Not(HasSubstr("tru")));
  EXPECT_THAT(e.what(), Not(HasSubstr("\x1b")));
  EXPECT_THAT(e.what(), Not(HasSubstr("json.exception")));
  EXPECT_FALSE(errorOf("").overLimit());
  EXPECT_FALSE(errorOf("// c\n{}").overLimit());  // comments only when asked for
}

}  // namespace
}  // namespace qtopology
