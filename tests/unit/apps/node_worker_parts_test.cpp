// What qtopology-worker adds for Node topologies, apart from processes: the
// child protocol's framing and its bounds, the dormancy schedule, the
// overrides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "dormancy_schedule.hpp"
#include "node_channel.hpp"
#include "topology_config.hpp"
#include "topology_overrides.hpp"

namespace qtopology::worker {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(NodeChannel, ParentMessagesAreOneJsonObjectAndANewline) {
  const std::string init = node_ipc::encode(node_ipc::ParentCode::kInit, {{"general", {}}});
  EXPECT_EQ(init, "{\"cmd\":0,\"data\":{\"general\":null}}\n");
  EXPECT_EQ(node_ipc::encode(node_ipc::ParentCode::kPing), "{\"cmd\":3,\"data\":{}}\n");
  EXPECT_EQ(node_ipc::encode(node_ipc::ParentCode::kShutdown), "{\"cmd\":4,\"data\":{}}\n");
}

TEST(NodeChannel, ChildMessagesArriveInPiecesAndCarryTheErrorsMessage) {
  node_ipc::ChildMessageReader reader;
  const std::string bytes =
      "{\"cmd\":3,\"data\":{}}\n{\"cmd\":5,\"data\":{\"err\":{\"name\":\"Error\",\"message\":"
      "\"bolt failed\",\"stack\":\"Error: bolt failed\\n at x\"}}}\n{\"cmd\":\"NODE_X\"}\n";
  for (char c : bytes) reader.append(&c, 1);
  auto pong = reader.next();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->code, 3);
  EXPECT_FALSE(pong->error);
  auto error = reader.next();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 5);
  EXPECT_EQ(error->error, "bolt failed");
  auto internal = reader.next();
  ASSERT_TRUE(internal);
  EXPECT_EQ(internal->code, -1);
  EXPECT_FALSE(reader.next());
}

TEST(NodeChannel, OversizedDeepOrMalformedMessagesAreRefusedWithoutEchoingThem) {
  {
    node_ipc::ChildMessageReader reader;
    const std::string big(node_ipc::kMaxMessageBytes + 1, 'x');
    reader.append(big.data(), big.size());
    EXPECT_THROW(reader.next(), node_ipc::ChannelError);
  }
  {
    node_ipc::ChildMessageReader reader;
    const std::string deep = std::string(100, '[') + std::string(100, ']') + "\n";
    reader.append(deep.data(), deep.size());
    EXPECT_THROW(reader.next(), node_ipc::ChannelError);
  }
  node_ipc::ChildMessageReader reader;
  const std::string bad = "{\"cmd\": secret-text}\n";
  reader.append(bad.data(), bad.size());
  try {
    reader.next();
    FAIL() << "no error";
  } catch (const node_ipc::ChannelError& e) {
    EXPECT_THAT(e.what(), Not(HasSubstr("secret-text")));
  }
}

TEST(NodeChannel, ALongErrorIsCutToTheErrorColumn) {
  node_ipc::ChildMessageReader reader;
  const std::string line =
      "{\"cmd\":5,\"data\":{\"err\":{\"message\":\"" + std::string(5000, 'e') + "\"}}}\n";
  reader.append(line.data(), line.size());
  const auto message = reader.next();
  ASSERT_TRUE(message && message->error);
  EXPECT_EQ(message->error->size(), node_ipc::kMaxErrorBytes);
}

std::tm at(int hour, int minute, int second, int weekday, int day = 7, int month = 12) {
  std::tm t{};
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  t.tm_wday = weekday;
  t.tm_mday = day;
  t.tm_mon = month - 1;
  return t;
}

TEST(DormancySchedule, MatchesEveryFieldAsQtopologysParserDoes) {
  const DormancySchedule nights("* * 1-5 * * *");
  EXPECT_TRUE(nights.includes(at(1, 0, 0, 3)));
  EXPECT_TRUE(nights.includes(at(5, 59, 59, 3)));
  EXPECT_FALSE(nights.includes(at(6, 0, 0, 3)));
  EXPECT_FALSE(nights.includes(at(0, 59, 59, 3)));
  const DormancySchedule saturday("* * * * * sat");
  EXPECT_TRUE(saturday.includes(at(12, 0, 0, 6)));
  EXPECT_FALSE(saturday.includes(at(12, 0, 0, 0)));
  const DormancySchedule weekdays("0-29 * 9 * 12 Mon-fri");
  EXPECT_TRUE(weekdays.includes(at(9, 10, 29, 1)));
  EXPECT_FALSE(weekdays.includes(at(9, 10, 30, 1)));
  EXPECT_FALSE(weekdays.includes(at(9, 10, 0, 0)));
  EXPECT_FALSE(weekdays.includes(at(9, 10, 0, 1, 7, 11)));
}

TEST(DormancySchedule, RefusesWhatItCannotMatchNamingTheField) {
  const auto refusal = [](const std::string& text) -> std::string {
    try {
      DormancySchedule schedule(text);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_THAT(refusal("* * * * *"), HasSubstr("six fields"));
  EXPECT_THAT(refusal("* *  * * * *"), HasSubstr("six fields"));
  EXPECT_THAT(refusal("* * 25 * * *"), HasSubstr("hour field '25': 25 is outside 0-23"));
  EXPECT_THAT(refusal("* * * 0 * *"), HasSubstr("day of month field"));
  EXPECT_THAT(refusal("* * 5-1 * * *"), HasSubstr("ends before it starts"));
  // qtopology never matches a reversed range either: sat-sun is 6-0.
  EXPECT_THAT(refusal("* * * * * sat-sun"), HasSubstr("ends before it starts"));
  EXPECT_THAT(refusal("* * * * * funday"), HasSubstr("day of week field 'funday'"));
  EXPECT_THAT(refusal("*/5 * * * * *"), HasSubstr("second field"));
  EXPECT_EQ(refusal("0 0 0 1 1 sun"), "accepted");
}

TEST(Overrides, ReplaceANodeTopologysVariables) {
  const Json config = {{"general", {{"heartbeat", 1000}}},
                       {"spouts", Json::array()},
                       {"bolts", Json::array()},
                       {"variables", {{"A", "from-config"}, {"B", "kept"}}}};
  const Json out = apps::applyOverrides(config, {{"A", "override"}, {"C", "new"}});
  EXPECT_EQ(out["variables"], Json({{"A", "override"}, {"B", "kept"}, {"C", "new"}}));
  EXPECT_EQ(apps::applyOverrides(config, {}), config);
}

TEST(Overrides, SubstituteIntoACommandTopologysCommand) {
  const Json config = {
      {"general", {{"command", {"/bin/run", "--in=${DIR}/${file}", "${DIR}", "${UNKNOWN}"}}}},
      {"variables", {{"DIR", "/data/${ENV}"}, {"ENV", "test"}, {"FILE", "x.txt"}}}};
  const Json out = apps::applyOverrides(config, {{"ENV", "prod"}});
  EXPECT_EQ(out["general"]["command"],
            Json({"/bin/run", "--in=/data/prod/x.txt", "/data/prod", "${UNKNOWN}"}));
  // Without variables, an override alone.
  const Json plain = {{"general", {{"command", {"/bin/echo", "${NAME}"}}}}};
  EXPECT_EQ(apps::applyOverrides(plain, {{"name", "v"}})["general"]["command"],
            Json({"/bin/echo", "v"}));
  EXPECT_EQ(apps::applyOverrides(plain, {}), plain);
  EXPECT_THROW(
      apps::applyOverrides({{"general", {{"command", {"x"}}}}, {"variables", {{"A", 1}}}}, {}),
      apps::InvalidTopology);
}

TEST(Overrides, AFileHoldsAJsonObjectOfStrings) {
  EXPECT_EQ(apps::parseOverridesObject("{\"A\": \"1\", \"B\": \"x\"}"),
            (apps::Overrides{{"A", "1"}, {"B", "x"}}));
  EXPECT_THROW(apps::parseOverridesObject("[\"A\"]"), std::invalid_argument);
  EXPECT_THROW(apps::parseOverridesObject("{\"A\": 1}"), std::invalid_argument);
  EXPECT_THROW(apps::parseOverridesObject("{\"A\": {\"B\": \"c\"}}"), std::invalid_argument);
}

}  // namespace
}  // namespace qtopology::worker
