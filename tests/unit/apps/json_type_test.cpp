// How the programs' errors name a JSON value's type.
#include <gtest/gtest.h>

#include "json_type.hpp"

namespace qtopology::apps {
namespace {

TEST(JsonType, NamesTypes) {
  EXPECT_EQ(typeWithArticle(Json::object()), "an object");
  EXPECT_EQ(typeWithArticle(Json::array()), "an array");
  EXPECT_EQ(typeWithArticle("x"), "a string");
  EXPECT_EQ(typeWithArticle(1), "a number");
  EXPECT_EQ(typeWithArticle(1.5), "a number");
  EXPECT_EQ(typeWithArticle(true), "a boolean");
  EXPECT_EQ(typeWithArticle(nullptr), "null");
}

}  // namespace
}  // namespace qtopology::apps
