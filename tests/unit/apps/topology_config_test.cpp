// The two topology formats: command topologies and Node qtopology ones,
// checked against the rules of qtopology's topology schema.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "json_rules.hpp"
#include "topology_config.hpp"

namespace qtopology::apps {
namespace {

using ::testing::HasSubstr;

// A topology as Node qtopology's own examples write them.
Json nodeTopology() {
  return Json::parse(R"({
    "general": {
      "heartbeat": 1000,
      "weight": 3,
      "worker_affinity": ["w1"],
      "wrapper": {"log_level": "warn", "ping_child_timeout": 2.5},
      "initialization": [{"working_dir": ".", "cmd": "init.js", "init": {}, "disabled": "$flag"}]
    },
    "spouts": [{"name": "s", "type": "sys", "working_dir": ".", "cmd": "timer", "init": {}}],
    "bolts": [{
      "name": "b", "type": "inproc", "working_dir": ".", "cmd": "bolt.js", "init": {"x": [1]},
      "inputs": [{"source": "s", "stream_id": "main", "disabled": false}],
      "allow_parallel": true, "telemetry_timeout": 60000
    }],
    "variables": {"flag": "false"}
  })");
}

std::string refusal(const Json& config) {
  try {
    validateTopologyConfig(config);
  } catch (const InvalidTopology& e) {
    return e.what();
  }
  return "valid";
}

TEST(TopologyFormat, CommandExactlyWhenGeneralHasOne) {
  EXPECT_EQ(formatOf(nodeTopology()), TopologyFormat::kNode);
  EXPECT_EQ(formatOf({{"general", {{"command", {"x"}}}}}), TopologyFormat::kCommand);
  EXPECT_EQ(formatOf({{"general", {{"command", nullptr}}}}), TopologyFormat::kCommand);
  EXPECT_EQ(formatOf(Json::object()), TopologyFormat::kNode);
  EXPECT_EQ(formatOf({{"general", "command"}}), TopologyFormat::kNode);
}

TEST(NodeTopology, AValidOnePasses) { EXPECT_EQ(refusal(nodeTopology()), "valid"); }

TEST(NodeTopology, IntegersMayBeWrittenWithAZeroFraction) {
  auto config = nodeTopology();
  config["general"]["heartbeat"] = 1000.0;
  EXPECT_EQ(refusal(config), "valid");
}

TEST(NodeTopology, TheTopLevelNeedsItsFourFieldsAndNoOther) {
  EXPECT_EQ(refusal(Json::object()),
            "not a valid Node qtopology topology (nor a command topology: no general.command): "
            "general: is required; spouts: is required; bolts: is required; variables: is "
            "required");
  auto config = nodeTopology();
  config["extra"] = 1;
  EXPECT_THAT(refusal(config), HasSubstr("extra: is not allowed here (the fields of the "
                                         "document are general, spouts, bolts, variables)"));
}

TEST(NodeTopology, GeneralNeedsHeartbeatAndAllowsOnlyItsOwnFields) {
  auto config = nodeTopology();
  config["general"].erase("heartbeat");
  config["general"]["timeout"] = 5;
  const auto text = refusal(config);
  EXPECT_THAT(text, HasSubstr("general.heartbeat: is required"));
  EXPECT_THAT(text, HasSubstr("general.timeout: is not allowed here (the fields of general are "
                              "description, heartbeat, weight, worker_affinity"));
}

TEST(NodeTopology, WrongTypesAndValuesAreNamedByTheirPath) {
  auto config = nodeTopology();
  config["general"]["weight"] = 2.5;
  config["general"]["worker_affinity"] = {"w1", 7};
  config["general"]["wrapper"]["log_level"] = "loud";
  config["general"]["initialization"][0]["disabled"] = 1;
  config["spouts"][0]["type"] = "python";
  config["bolts"][0]["inputs"][0].erase("source");
  config["variables"]["n"] = 3;
  const auto text = refusal(config);
  EXPECT_THAT(text, HasSubstr("general.weight: must be an integer, not a number"));
  EXPECT_THAT(text, HasSubstr("general.worker_affinity[1]: must be a string, not a number"));
  EXPECT_THAT(text, HasSubstr("general.wrapper.log_level: must be one of \"debug\", \"log\", "
                              "\"info\", \"normal\", \"warn\", \"error\", \"none\", not \"loud\""));
  EXPECT_THAT(text, HasSubstr("general.initialization[0].disabled: must be a boolean or a "
                              "string, not a number"));
  EXPECT_THAT(text, HasSubstr("spouts[0].type: must be one of \"module_class\", "
                              "\"module_method\", \"inproc\", \"sys\", not \"python\""));
  EXPECT_THAT(text, HasSubstr("bolts[0].inputs[0].source: is required"));
  EXPECT_THAT(text, HasSubstr("variables.n: must be a string, not a number"));
}

TEST(NodeTopology, SpoutsAndBoltsNeedTheirFields) {
  auto config = nodeTopology();
  config["spouts"][0] = {{"name", "s"}};
  config["bolts"][0].erase("inputs");
  config["bolts"][0]["init"] = "none";
  const auto text = refusal(config);
  EXPECT_THAT(text, HasSubstr("spouts[0].working_dir: is required"));
  EXPECT_THAT(text, HasSubstr("spouts[0].cmd: is required"));
  EXPECT_THAT(text, HasSubstr("spouts[0].init: is required"));
  EXPECT_THAT(text, HasSubstr("bolts[0].inputs: is required"));
  EXPECT_THAT(text, HasSubstr("bolts[0].init: must be an object, not a string"));
}

TEST(CommandTopology, ValidWithAndWithoutRestartAndNodeFieldsAlongside) {
  EXPECT_EQ(refusal({{"general", {{"command", {"/bin/true"}}, {"weight", 2.5}}}}), "valid");
  EXPECT_EQ(refusal({{"general",
                      {{"command", {"sh", "-c", "exit 1"}},
                       {"restart", {{"max", 3}, {"window_s", 0.5}}}}},
                     {"spouts", "anything"}}),
            "valid");
}

TEST(CommandTopology, BadCommandOrRestartIsNamed) {
  EXPECT_EQ(refusal({{"general", {{"command", Json::array()}}}}),
            "general.command: must be a non-empty array of strings (program, then arguments), "
            "not an empty array");
  EXPECT_EQ(refusal({{"general", {{"command", "ls -l"}}}}),
            "not a valid command topology: general.command: must be an array, not a string");
  EXPECT_EQ(refusal({{"general", {{"command", {"ls", ""}}}}}),
            "general.command[1]: must be a non-empty string, not an empty one");
  EXPECT_EQ(refusal({{"general", {{"command", {"ls"}}, {"restart", {{"max", 2}}}}}}),
            "not a valid command topology: general.restart.window_s: is required");
  EXPECT_EQ(
      refusal({{"general", {{"command", {"ls"}}, {"restart", {{"max", 1.5}, {"window_s", 10}}}}}}),
      "not a valid command topology: general.restart.max: must be an integer, not a number");
  EXPECT_EQ(
      refusal({{"general", {{"command", {"ls"}}, {"restart", {{"max", -1}, {"window_s", 10}}}}}}),
      "general.restart.max: must be 0 or more");
  EXPECT_EQ(
      refusal({{"general", {{"command", {"ls"}}, {"restart", {{"max", 1}, {"window_s", 0}}}}}}),
      "general.restart.window_s: must be more than 0");
  EXPECT_THAT(
      refusal({{"general",
                {{"command", {"ls"}}, {"restart", {{"max", 1}, {"window_s", 1}, {"x", 1}}}}}}),
      HasSubstr("general.restart.x: is not allowed here"));
}

TEST(CommandOf, TellsWhatToDoWithANodeTopology) {
  try {
    commandOf(nodeTopology());
    FAIL() << "a Node topology has no command";
  } catch (const InvalidTopology& e) {
    EXPECT_THAT(e.what(), HasSubstr("no general.command"));
    EXPECT_THAT(e.what(), HasSubstr("worker_affinity"));
  }
  EXPECT_EQ(commandOf({{"general", {{"command", {"sh", "-c", "x"}}}}}),
            (std::vector<std::string>{"sh", "-c", "x"}));
}

std::string rawRefusal(const Json& config) {
  try {
    validateTopologyConfig(config, RegisterFormat::kRaw);
  } catch (const InvalidTopology& e) {
    return e.what();
  }
  return "valid";
}

// A host's own format: anything, but the two fields the storage reads.
TEST(RawTopology, AnyObjectPassesButWhatTheStorageReadsIsChecked) {
  EXPECT_EQ(registerFormatNamed("raw"), RegisterFormat::kRaw);
  EXPECT_EQ(registerFormatNamed("auto"), RegisterFormat::kAuto);
  EXPECT_EQ(registerFormatNamed("Raw"), std::nullopt);
  EXPECT_EQ(rawRefusal(Json::object()), "valid");
  EXPECT_EQ(rawRefusal({{"general", nullptr}, {"my_runner", {1, 2}}}), "valid");
  EXPECT_EQ(rawRefusal({{"general", {{"weight", 0.5}, {"worker_affinity", {"a", "b"}}}}}), "valid");
  EXPECT_EQ(rawRefusal(nodeTopology()), "valid");
  EXPECT_EQ(rawRefusal({{"general", "x"}}), "general: must be an object, not a string");
  EXPECT_EQ(rawRefusal({{"general", {{"weight", 0}}}}),
            "general.weight: must be a positive number, not 0");
  EXPECT_EQ(rawRefusal({{"general", {{"weight", nullptr}}}}),
            "general.weight: must be a positive number, not null");
  EXPECT_EQ(rawRefusal(Json::parse(R"({"general": {"worker_affinity": [["w", 1]]}})")),
            "general.worker_affinity[0]: must be a non-empty worker name, not an array");
  EXPECT_EQ(rawRefusal({{"general", {{"worker_affinity", {""}}}}}),
            "general.worker_affinity[0]: must be a non-empty worker name, not an empty string");
  // The default format refuses what is neither a command nor a Node topology.
  EXPECT_THAT(refusal({{"my_runner", Json::object()}}),
              HasSubstr("not a valid Node qtopology topology"));
}

TEST(JsonRules, AnyTypeWhenNoneIsGivenAndTheWholeDocumentIsNamed) {
  EXPECT_TRUE(violations(*oneOf({1, "a"}), "a").empty());
  EXPECT_EQ(violations(*ofType({"object"}), Json::array()),
            (std::vector<std::string>{"the document: must be an object, not an array"}));
}

}  // namespace
}  // namespace qtopology::apps
