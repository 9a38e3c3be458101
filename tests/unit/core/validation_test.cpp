#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "core/validation.hpp"

namespace {

using qtopology::InvalidArgument;
using qtopology::Json;
using qtopology::Leadership;
using qtopology::parseLeadership;
using qtopology::parseTopologyState;
using qtopology::parseWorkerState;
using qtopology::TopologyState;
using qtopology::toString;
using qtopology::WorkerState;
using qtopology::detail::checkErrorText;
using qtopology::detail::checkIdentifier;
using qtopology::detail::checkLeadershipStatus;
using qtopology::detail::checkTopologyStatus;
using qtopology::detail::checkWorkerStatus;
using qtopology::detail::serializeContent;
using qtopology::detail::splitAffinity;
using qtopology::detail::topologyColumns;
namespace consts = qtopology::consts;

constexpr std::string_view kOp = "test";

std::string repeat(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

void checkWorker(const std::string& value) { checkIdentifier(kOp, "worker", value); }

Json withGeneral(Json general) { return Json{{"general", std::move(general)}}; }

// --- identifiers -------------------------------------------------------------------

TEST(CheckIdentifier, RejectsEmpty) { EXPECT_THROW(checkWorker(""), InvalidArgument); }

TEST(CheckIdentifier, AcceptsOneHundredCharacters) {
  EXPECT_NO_THROW(checkWorker(std::string(100, 'w')));
}

TEST(CheckIdentifier, RejectsOneHundredAndOneCharacters) {
  EXPECT_THROW(checkWorker(std::string(101, 'w')), InvalidArgument);
}

TEST(CheckIdentifier, CountsCodePointsNotBytes) {
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600, four bytes
  EXPECT_NO_THROW(checkWorker(repeat(emoji, 100)));
  EXPECT_NO_THROW(checkWorker(repeat("\xC3\xA9", 100)));  // e-acute, two bytes
  EXPECT_THROW(checkWorker(repeat(emoji, 101)), InvalidArgument);
}

TEST(CheckIdentifier, RejectsLoneContinuationByte) {
  EXPECT_THROW(checkWorker("ab\x80"), InvalidArgument);
}

TEST(CheckIdentifier, RejectsTruncatedSequence) {
  EXPECT_THROW(checkWorker("ab\xE2\x82"), InvalidArgument);
  EXPECT_THROW(checkWorker("\xF0\x9F\x98"), InvalidArgument);
}

TEST(CheckIdentifier, RejectsSequenceInterruptedByAscii) {
  EXPECT_THROW(checkWorker("\xE2\x82x"), InvalidArgument);
}

TEST(CheckIdentifier, RejectsOverlongEncoding) {
  EXPECT_THROW(checkWorker("\xC0\xAF"), InvalidArgument);
  EXPECT_THROW(checkWorker("\xE0\x80\xAF"), InvalidArgument);
}

TEST(CheckIdentifier, RejectsEncodedSurrogate) {
  EXPECT_THROW(checkWorker("\xED\xA0\x80"), InvalidArgument);
}

TEST(CheckIdentifier, RejectsCodePointAboveUnicodeRange) {
  EXPECT_THROW(checkWorker("\xF4\x90\x80\x80"), InvalidArgument);
  EXPECT_THROW(checkWorker("\xF8\x88\x80\x80\x80"), InvalidArgument);
}

TEST(CheckIdentifier, RejectsNulByte) {
  EXPECT_THROW(checkWorker(std::string("a\0b", 3)), InvalidArgument);
}

TEST(CheckIdentifier, RejectsTabAndOtherControlCharacters) {
  EXPECT_THROW(checkWorker("a\tb"), InvalidArgument);
  EXPECT_THROW(checkWorker("a\nb"), InvalidArgument);
  EXPECT_THROW(checkWorker("a\x7F"), InvalidArgument);
}

TEST(CheckIdentifier, AcceptsQuotesBackslashAndLikeWildcards) {
  EXPECT_NO_THROW(checkWorker("O'Brien"));
  EXPECT_NO_THROW(checkWorker("say \"hi\""));
  EXPECT_NO_THROW(checkWorker("back\\slash"));
  EXPECT_NO_THROW(checkWorker("100%"));
  EXPECT_NO_THROW(checkWorker("a_b"));
  EXPECT_NO_THROW(checkWorker("`tick`"));
}

TEST(CheckIdentifier, AcceptsSqlFragments) {
  EXPECT_NO_THROW(checkWorker("x'; DROP TABLE qtopology_worker; --"));
  EXPECT_NO_THROW(checkWorker("' OR '1'='1"));
  EXPECT_NO_THROW(checkWorker("/* */ # $$"));
}

TEST(CheckIdentifier, ErrorNamesTheOperation) {
  try {
    checkIdentifier("registerWorker", "worker", "");
    FAIL() << "nothing thrown";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("registerWorker"), std::string::npos) << e.what();
  }
}

// --- statuses ------------------------------------------------------------------------

TEST(StatusSpellings, AreNodesAndReadBack) {
  const std::pair<WorkerState, const char*> workers[] = {{WorkerState::alive, "alive"},
                                                         {WorkerState::closing, "closing"},
                                                         {WorkerState::dead, "dead"},
                                                         {WorkerState::disabled, "disabled"},
                                                         {WorkerState::unloaded, "unloaded"}};
  for (const auto& [state, text] : workers) {
    EXPECT_EQ(toString(state), text);
    EXPECT_EQ(parseWorkerState(text), state) << text;
    EXPECT_NO_THROW(checkWorkerStatus(kOp, state)) << text;
  }
  const std::pair<Leadership, const char*> leaderships[] = {{Leadership::leader, "leader"},
                                                            {Leadership::candidate, "candidate"},
                                                            {Leadership::normal, "normal"}};
  for (const auto& [leadership, text] : leaderships) {
    EXPECT_EQ(toString(leadership), text);
    EXPECT_EQ(parseLeadership(text), leadership) << text;
    EXPECT_NO_THROW(checkLeadershipStatus(kOp, leadership)) << text;
  }
  const std::pair<TopologyState, const char*> topologies[] = {
      {TopologyState::unassigned, "unassigned"},
      {TopologyState::waiting, "waiting"},
      {TopologyState::running, "running"},
      {TopologyState::error, "error"}};
  for (const auto& [state, text] : topologies) {
    EXPECT_EQ(toString(state), text);
    EXPECT_EQ(parseTopologyState(text), state) << text;
    EXPECT_NO_THROW(checkTopologyStatus(kOp, state)) << text;
  }
}

TEST(StatusSpellings, AnEmptyLeadershipFromOlderPeersIsNormal) {
  EXPECT_EQ(parseLeadership(""), Leadership::normal);
}

TEST(StatusSpellings, OtherTextIsRefusedByName) {
  for (const char* s : {"", "Alive", "alive ", "leader", "running", "unknown"}) {
    EXPECT_THROW(parseWorkerState(s), InvalidArgument) << s;
  }
  for (const char* s : {"Leader", "alive", "follower", " "}) {
    EXPECT_THROW(parseLeadership(s), InvalidArgument) << s;
  }
  for (const char* s : {"", "Running", "stopped", "alive", "error\n"}) {
    EXPECT_THROW(parseTopologyState(s), InvalidArgument) << s;
  }
  try {
    parseTopologyState("exploded\x1b[2J");
    FAIL() << "nothing thrown";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "not a topology status: 'exploded\\x1b[2J' (expected one of unassigned, "
                 "waiting, running, error)");
  }
  EXPECT_THROW(parseWorkerState(std::string(100000, 'a')), InvalidArgument);
  try {
    parseWorkerState(std::string(100000, 'a'));
  } catch (const InvalidArgument& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u);  // bounded, however long the text
  }
}

TEST(StatusSpellings, ValuesNoEnumeratorNamesHaveNoTextAndAreRefused) {
  EXPECT_EQ(toString(static_cast<WorkerState>(42)), "");
  EXPECT_THROW(checkWorkerStatus(kOp, static_cast<WorkerState>(42)), InvalidArgument);
  EXPECT_THROW(checkLeadershipStatus(kOp, static_cast<Leadership>(-1)), InvalidArgument);
  EXPECT_THROW(checkTopologyStatus(kOp, static_cast<TopologyState>(4)), InvalidArgument);
}

TEST(StatusSpellings, AreTheStatusesInJson) {
  Json j = {{"status", TopologyState::running}, {"lstatus", Leadership::leader}};
  EXPECT_EQ(j.dump(), R"({"lstatus":"leader","status":"running"})");
  EXPECT_EQ(j.at("status").get<TopologyState>(), TopologyState::running);
  EXPECT_THROW(Json("sleepy").get<WorkerState>(), InvalidArgument);
}

// --- error text ----------------------------------------------------------------------

TEST(CheckErrorText, AcceptsNoError) { EXPECT_NO_THROW(checkErrorText(kOp, std::nullopt)); }

TEST(CheckErrorText, AcceptsOneThousandCharacters) {
  EXPECT_NO_THROW(checkErrorText(kOp, std::string(1000, 'e')));
  EXPECT_NO_THROW(checkErrorText(kOp, repeat("\xC3\xA9", 1000)));
}

TEST(CheckErrorText, RejectsOneThousandAndOneCharacters) {
  EXPECT_THROW(checkErrorText(kOp, std::string(1001, 'e')), InvalidArgument);
}

TEST(CheckErrorText, RejectsInvalidUtf8) {
  EXPECT_THROW(checkErrorText(kOp, std::string("bad \xFF byte")), InvalidArgument);
}

// --- topologyColumns -----------------------------------------------------------------

TEST(TopologyColumns, RejectsNonObjectConfig) {
  EXPECT_THROW(topologyColumns(kOp, Json::array()), InvalidArgument);
  EXPECT_THROW(topologyColumns(kOp, Json("config")), InvalidArgument);
  EXPECT_THROW(topologyColumns(kOp, Json(nullptr)), InvalidArgument);
  EXPECT_THROW(topologyColumns(kOp, Json(42)), InvalidArgument);
}

TEST(TopologyColumns, MissingGeneralGivesDefaults) {
  const auto c = topologyColumns(kOp, Json{{"spouts", Json::array()}});
  EXPECT_DOUBLE_EQ(c.weight, 1.0);
  EXPECT_EQ(c.worker_affinity, "");
  EXPECT_EQ(Json::parse(c.config), (Json{{"spouts", Json::array()}}));
}

TEST(TopologyColumns, NullGeneralGivesDefaults) {
  const auto c = topologyColumns(kOp, withGeneral(nullptr));
  EXPECT_DOUBLE_EQ(c.weight, 1.0);
  EXPECT_EQ(c.worker_affinity, "");
}

TEST(TopologyColumns, RejectsNonObjectGeneral) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral("x")), InvalidArgument);
}

TEST(TopologyColumns, WeightDefaultsToOne) {
  EXPECT_DOUBLE_EQ(topologyColumns(kOp, withGeneral(Json::object())).weight, 1.0);
}

TEST(TopologyColumns, ReadsFractionalWeight) {
  EXPECT_DOUBLE_EQ(topologyColumns(kOp, withGeneral({{"weight", 2.5}})).weight, 2.5);
}

TEST(TopologyColumns, RejectsZeroWeight) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"weight", 0}})), InvalidArgument);
}

TEST(TopologyColumns, RejectsNegativeWeight) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"weight", -1}})), InvalidArgument);
}

TEST(TopologyColumns, RejectsNonNumericWeight) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"weight", "x"}})), InvalidArgument);
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"weight", "NaN"}})), InvalidArgument);
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"weight", true}})), InvalidArgument);
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"weight", nullptr}})), InvalidArgument);
}

TEST(TopologyColumns, RejectsNonFiniteWeight) {
  EXPECT_THROW(
      topologyColumns(kOp, withGeneral({{"weight", std::numeric_limits<double>::quiet_NaN()}})),
      InvalidArgument);
  EXPECT_THROW(
      topologyColumns(kOp, withGeneral({{"weight", std::numeric_limits<double>::infinity()}})),
      InvalidArgument);
}

TEST(TopologyColumns, JoinsAffinityWithCommas) {
  const auto c = topologyColumns(kOp, withGeneral({{"worker_affinity", {"a", "b"}}}));
  EXPECT_EQ(c.worker_affinity, "a,b");
}

TEST(TopologyColumns, EmptyAffinityArrayGivesEmptyColumn) {
  EXPECT_EQ(topologyColumns(kOp, withGeneral({{"worker_affinity", Json::array()}})).worker_affinity,
            "");
}

TEST(TopologyColumns, RejectsCommaInAffinityName) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"worker_affinity", {"a,b"}}})), InvalidArgument);
}

TEST(TopologyColumns, RejectsNonArrayAffinity) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"worker_affinity", "a,b"}})), InvalidArgument);
}

TEST(TopologyColumns, RejectsNonStringAffinityEntry) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"worker_affinity", {"a", 1}}})), InvalidArgument);
}

TEST(TopologyColumns, RejectsInvalidAffinityName) {
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"worker_affinity", {""}}})), InvalidArgument);
}

TEST(TopologyColumns, AcceptsAffinityOfExactlyTwoHundredJoined) {
  const Json names = {std::string(100, 'a'), std::string(99, 'b')};  // 100 + ',' + 99
  EXPECT_EQ(topologyColumns(kOp, withGeneral({{"worker_affinity", names}})).worker_affinity.size(),
            200u);
}

TEST(TopologyColumns, RejectsAffinityLongerThanTwoHundredJoined) {
  const Json names = {std::string(100, 'a'), std::string(100, 'b')};  // 201 joined
  EXPECT_THROW(topologyColumns(kOp, withGeneral({{"worker_affinity", names}})), InvalidArgument);
}

TEST(TopologyColumns, RejectsConfigLargerThanSixteenMebibytes) {
  const Json config = {{"blob", std::string(16u * 1024 * 1024, 'x')}};
  EXPECT_THROW(topologyColumns(kOp, config), InvalidArgument);
}

// --- serializeContent / splitAffinity --------------------------------------------------

TEST(SerializeContent, SerialisesJson) {
  EXPECT_EQ(serializeContent(kOp, Json{{"uuid", "t1"}}), R"({"uuid":"t1"})");
}

TEST(SerializeContent, RejectsStringWithInvalidUtf8) {
  EXPECT_THROW(serializeContent(kOp, Json{{"uuid", "bad \xFF"}}), InvalidArgument);
}

TEST(SplitAffinity, SkipsEmptyNames) {
  EXPECT_EQ(splitAffinity("a,,b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(splitAffinity(",a,"), (std::vector<std::string>{"a"}));
}

TEST(SplitAffinity, EmptyColumnGivesNoNames) { EXPECT_TRUE(splitAffinity("").empty()); }

TEST(FitErrorText, AnyBytesBecomeAnAcceptedErrorText) {
  using qtopology::detail::fitErrorText;
  EXPECT_EQ(fitErrorText("exit code 1\nlast line\ttab"), "exit code 1\nlast line\ttab");
  EXPECT_EQ(fitErrorText("bad \xff byte \x01 and \xc3\xa9"), "bad ? byte ? and \xc3\xa9");
  const std::string long_text(500, 'x');
  const auto cut = fitErrorText(long_text + std::string(600, 'y') + "\xe2\x82\xac");
  EXPECT_EQ(cut.size(), 1000u);
  EXPECT_NO_THROW(checkErrorText("t", cut));
  // Cut by characters, never inside one.
  std::string euros;
  for (int i = 0; i < 1001; ++i) euros += "\xe2\x82\xac";
  EXPECT_EQ(fitErrorText(euros).size(), 3000u);
  EXPECT_NO_THROW(checkErrorText("t", fitErrorText(euros)));
}

}  // namespace
