#include "topology_config.hpp"

#include <limits>

#include "json_rules.hpp"
#include "json_type.hpp"

namespace qtopology::apps {
namespace {

JsonRulePtr string() { return ofType({"string"}); }
JsonRulePtr integer() { return ofType({"integer"}); }
JsonRulePtr number() { return ofType({"number"}); }
JsonRulePtr boolean() { return ofType({"boolean"}); }
JsonRulePtr anyObject() { return ofType({"object"}); }
// Node qtopology lets "disabled" be a boolean or a string (a variable).
JsonRulePtr disabledFlag() { return ofType({"boolean", "string"}); }

// A step of general.initialization, shutdown and shutdown_hard.
JsonRulePtr nodeStep() {
  return objectWith({{"working_dir", string()},
                     {"cmd", string()},
                     {"init", anyObject()},
                     {"disabled", disabledFlag()}},
                    {"working_dir", "cmd"}, true);
}

JsonRulePtr nodeGeneral() {
  const auto log_levels =
      oneOf({"debug", "log", "info", "normal", "warn", "error", "none"}, {"string"});
  return objectWith({{"description", string()},
                     {"heartbeat", integer()},
                     {"weight", integer()},
                     {"worker_affinity", arrayOf(string())},
                     {"pass_binary_messages", boolean()},
                     {"wrapper", objectWith({{"log_level", log_levels},
                                             {"ping_parent_timeout", number()},
                                             {"ping_parent_interval", number()},
                                             {"ping_child_timeout", number()},
                                             {"ping_child_interval", number()}},
                                            {}, true)},
                     {"initialization", arrayOf(nodeStep())},
                     {"shutdown", arrayOf(nodeStep())},
                     {"shutdown_hard", arrayOf(nodeStep())}},
                    {"heartbeat"}, true);
}

// The fields spouts and bolts share.
std::vector<JsonField> nodeNodeFields() {
  return {{"name", string()},
          {"description", string()},
          {"type", oneOf({"module_class", "module_method", "inproc", "sys"})},
          {"disabled", disabledFlag()},
          {"working_dir", string()},
          {"cmd", string()},
          {"subtype", string()},
          {"telemetry_timeout", number()},
          {"init", anyObject()}};
}

JsonRulePtr nodeSpout() {
  return objectWith(nodeNodeFields(), {"name", "working_dir", "cmd", "init"}, true);
}

JsonRulePtr nodeBolt() {
  auto fields = nodeNodeFields();
  fields.push_back(
      {"inputs", arrayOf(objectWith(
                     {{"source", string()}, {"stream_id", string()}, {"disabled", disabledFlag()}},
                     {"source"}, true))});
  fields.push_back({"allow_parallel", boolean()});
  return objectWith(fields, {"name", "working_dir", "cmd", "inputs", "init"}, true);
}

// The rules of qtopology 2.3.2's resources/topology_config_schema.json.
const JsonRule& nodeTopology() {
  static const JsonRulePtr rule = objectWith({{"general", nodeGeneral()},
                                              {"spouts", arrayOf(nodeSpout())},
                                              {"bolts", arrayOf(nodeBolt())},
                                              {"variables", mapOf(string())}},
                                             {"general", "spouts", "bolts", "variables"}, true);
  return *rule;
}

// What qtopology-worker reads from a command topology; the rest of general
// (weight, worker_affinity) the storage checks when it is registered.
const JsonRule& commandGeneral() {
  static const JsonRulePtr rule = objectWith(
      {{"command", arrayOf(string())},
       {"restart",
        objectWith({{"max", integer()}, {"window_s", number()}}, {"max", "window_s"}, true)}},
      {"command"}, false);
  return *rule;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
  return out;
}

}  // namespace

TopologyFormat formatOf(const Json& config) {
  const bool has_command = config.is_object() && config.contains("general") &&
                           config["general"].is_object() && config["general"].contains("command");
  return has_command ? TopologyFormat::kCommand : TopologyFormat::kNode;
}

std::vector<std::string> commandOf(const Json& config) {
  if (formatOf(config) != TopologyFormat::kCommand) {
    throw InvalidTopology(
        "no general.command: this worker runs command topologies (general.command: [program, "
        "arguments...]); a Node qtopology topology needs a Node worker (steer it there with "
        "general.worker_affinity)");
  }
  const Json& command = config["general"]["command"];
  if (!command.is_array() || command.empty()) {
    throw InvalidTopology(
        "general.command: must be a non-empty array of strings (program, then arguments), not " +
        (command.is_array() ? std::string("an empty array") : apps::typeWithArticle(command)));
  }
  std::vector<std::string> argv;
  for (std::size_t i = 0; i < command.size(); ++i) {
    if (!command[i].is_string() || command[i].get<std::string>().empty()) {
      throw InvalidTopology("general.command[" + std::to_string(i) +
                            "]: must be a non-empty string, not " +
                            (command[i].is_string() ? std::string("an empty one")
                                                    : apps::typeWithArticle(command[i])));
    }
    argv.push_back(command[i].get<std::string>());
  }
  return argv;
}

void validateTopologyConfig(const Json& config, bool show_values) {
  if (formatOf(config) == TopologyFormat::kCommand) {
    const auto found = violations(commandGeneral(), config["general"], "general", show_values);
    if (!found.empty()) throw InvalidTopology("not a valid command topology: " + joined(found));
    commandOf(config);  // also refuses an empty program name or argument list
    const Json& restart = config["general"].value("restart", Json::object());
    if (restart.contains("max") && restart["max"].get<double>() < 0) {
      throw InvalidTopology("general.restart.max: must be 0 or more");
    }
    if (restart.contains("window_s") && restart["window_s"].get<double>() <= 0) {
      throw InvalidTopology("general.restart.window_s: must be more than 0");
    }
    return;
  }
  const auto found = violations(nodeTopology(), config, "", show_values);
  if (!found.empty()) {
    throw InvalidTopology(
        "not a valid Node qtopology topology (nor a command topology: no general.command): " +
        joined(found));
  }
}

void checkStorageFields(const Json& config) {
  const auto general = config.find("general");
  if (general == config.end() || general->is_null()) return;
  if (!general->is_object()) {
    throw InvalidTopology("general: must be an object, not " + typeWithArticle(*general));
  }
  if (const auto weight = general->find("weight"); weight != general->end()) {
    // A number that overflowed a double in parsing is refused by the
    // storage as not finite; here it is the same: not a positive number.
    if (!weight->is_number() || !(weight->get<double>() > 0) ||
        weight->get<double>() > std::numeric_limits<double>::max()) {
      throw InvalidTopology("general.weight: must be a positive number, not " +
                            (weight->is_number() ? weight->dump() : typeWithArticle(*weight)));
    }
  }
  const auto affinity = general->find("worker_affinity");
  if (affinity == general->end()) return;
  if (!affinity->is_array()) {
    throw InvalidTopology("general.worker_affinity: must be an array of worker names, not " +
                          typeWithArticle(*affinity));
  }
  for (std::size_t i = 0; i < affinity->size(); ++i) {
    const Json& name = (*affinity)[i];
    const std::string at = "general.worker_affinity[" + std::to_string(i) + "]: ";
    if (!name.is_string() || name.get_ref<const std::string&>().empty()) {
      throw InvalidTopology(
          at + "must be a non-empty worker name, not " +
          (name.is_string() ? std::string("an empty string") : typeWithArticle(name)));
    }
    if (name.get_ref<const std::string&>().find(',') != std::string::npos) {
      throw InvalidTopology(at + "a worker name cannot contain ','");
    }
  }
}

std::optional<RegisterFormat> registerFormatNamed(std::string_view name) {
  if (name == "auto") return RegisterFormat::kAuto;
  if (name == "raw") return RegisterFormat::kRaw;
  return std::nullopt;
}

void validateTopologyConfig(const Json& config, RegisterFormat format, bool show_values) {
  if (format == RegisterFormat::kRaw) return checkStorageFields(config);
  validateTopologyConfig(config, show_values);
}

}  // namespace qtopology::apps
