// What qtopology-worker adds for Node topologies, apart from processes: the
// child protocol's framing and its bounds, the runner's side of it on a
// socket pair, the dormancy schedule, the overrides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "dormancy_schedule.hpp"
#include "node_channel.hpp"
#include "node_child.hpp"
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

// The child's end of a NodeChild's channel.
class NodeChildSide : public ::testing::Test {
 protected:
  NodeChildSide() {
    int ends[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends), 0);
    node_ = std::make_unique<NodeChild>(ends[0]);
    child_fd_ = ends[1];
  }
  ~NodeChildSide() override {
    if (child_fd_ >= 0) ::close(child_fd_);
  }

  void childSends(const std::string& bytes) {
    ASSERT_EQ(::write(child_fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  using Clock = NodeChild::Clock;
  const Clock::time_point start_ = Clock::now();
  std::unique_ptr<NodeChild> node_;
  int child_fd_ = -1;
};

TEST_F(NodeChildSide, ASuccessfulInitIsAnsweredWithRunAndPingsFollowAtTheirInterval) {
  node_->initSent({{"general", {{"wrapper", {{"ping_parent_interval", 100}}}}}}, start_);
  childSends("{\"cmd\":0,\"data\":{}}\n");
  auto tended = node_->tend(start_);
  EXPECT_EQ(tended.replies, std::vector<std::string>{node_ipc::encode(node_ipc::ParentCode::kRun)});
  EXPECT_FALSE(tended.runs);
  childSends("{\"cmd\":1,\"data\":{}}\n");
  tended = node_->tend(start_ + std::chrono::milliseconds(99));
  EXPECT_TRUE(tended.runs);
  EXPECT_TRUE(tended.replies.empty());
  tended = node_->tend(start_ + std::chrono::milliseconds(100));
  EXPECT_EQ(tended.replies,
            std::vector<std::string>{node_ipc::encode(node_ipc::ParentCode::kPing)});
  EXPECT_FALSE(tended.kill);
  EXPECT_FALSE(node_->error());
}

TEST_F(NodeChildSide, WithoutAPongForPingParentTimeoutItIsKilledOnce) {
  node_->initSent(
      {{"general", {{"wrapper", {{"ping_parent_interval", 100}, {"ping_parent_timeout", 250}}}}}},
      start_);
  EXPECT_FALSE(node_->tend(start_ + std::chrono::milliseconds(100)).kill);
  childSends("{\"cmd\":3,\"data\":{}}\n");  // a pong at 200 ms
  EXPECT_FALSE(node_->tend(start_ + std::chrono::milliseconds(200)).kill);
  EXPECT_FALSE(node_->tend(start_ + std::chrono::milliseconds(400)).kill);
  const auto late = node_->tend(start_ + std::chrono::milliseconds(500));
  EXPECT_TRUE(late.kill);
  EXPECT_TRUE(late.replies.empty());
  EXPECT_THAT(node_->error().value_or(""), HasSubstr("no answer to pings for 250 ms"));
  EXPECT_FALSE(node_->tend(start_ + std::chrono::milliseconds(600)).kill);
}

TEST_F(NodeChildSide, AnErrorTheChildReportsIsKeptAndAnInitErrorKillsIt) {
  node_->initSent(Json::object(), start_);
  childSends(
      "{\"cmd\":0,\"data\":{\"err\":{\"message\":\"bad config\"}}}\n"
      "{\"cmd\":5,\"data\":{\"err\":{\"message\":\"later\"}}}\n");
  const auto tended = node_->tend(start_);
  EXPECT_TRUE(tended.kill);
  EXPECT_TRUE(tended.replies.empty());
  EXPECT_EQ(node_->error(), "bad config");
}

TEST_F(NodeChildSide, ABrokenProtocolKillsItWithoutEchoingTheBytes) {
  node_->initSent(Json::object(), start_);
  childSends("secret-looking garbage\n");
  EXPECT_TRUE(node_->tend(start_).kill);
  EXPECT_FALSE(node_->open());
  EXPECT_THAT(node_->error().value_or(""), HasSubstr("broke qtopology's IPC protocol"));
  EXPECT_THAT(node_->error().value_or(""), Not(HasSubstr("secret")));
}

TEST_F(NodeChildSide, TheChildsEndClosingClosesTheChannel) {
  node_->initSent(Json::object(), start_);
  ::close(child_fd_);
  child_fd_ = -1;
  node_->tend(start_);
  EXPECT_FALSE(node_->open());
  EXPECT_GE(node_->fd(), 0);  // closed by close(), once stop() no longer sends on it
  node_->close();
  EXPECT_EQ(node_->fd(), -1);
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
