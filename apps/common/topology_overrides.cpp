#include "topology_overrides.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <qtopology/bounded_json.hpp>

#include "json_type.hpp"
#include "topology_config.hpp"

namespace qtopology::apps {
namespace {

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string substituteVariables(const std::string& text, const Overrides& variables) {
  if (variables.empty() || text.find("${") == std::string::npos) return text;
  std::map<std::string, const std::string*> by_name;
  for (const auto& [name, value] : variables) by_name.emplace(lowered(name), &value);
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto open = text.find("${", at);
    if (open == std::string::npos) break;
    const auto close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(text, at, open - at);
    const auto found = by_name.find(lowered(text.substr(open + 2, close - open - 2)));
    if (found != by_name.end()) {
      out += *found->second;
    } else {
      out.append(text, open, close + 1 - open);
    }
    at = close + 1;
  }
  out.append(text, at, std::string::npos);
  return out;
}

Json applyOverrides(const Json& config, const Overrides& overrides) {
  Json out = config;
  if (!out.is_object()) return out;
  const bool command = formatOf(config) == TopologyFormat::kCommand;
  if (overrides.empty() && (!command || !out.contains("variables"))) return out;
  if (!out.contains("variables")) out["variables"] = Json::object();
  Json& variables = out["variables"];
  if (!variables.is_object()) {
    throw InvalidTopology("variables: must be an object of strings, not " +
                          apps::typeWithArticle(variables));
  }
  for (const auto& [name, value] : overrides) variables[name] = value;
  if (!command) return out;
  Overrides values;
  for (const auto& [name, value] : variables.items()) {
    if (!value.is_string()) {
      throw InvalidTopology("variables." + name + ": must be a string, not " +
                            apps::typeWithArticle(value));
    }
    values[name] = value.get<std::string>();
  }
  // Into one another once, as qtopology's compiler resolves them.
  const Overrides given = values;
  for (auto& [name, value] : values) value = substituteVariables(value, given);
  Json& general = out["general"];
  if (general.is_object() && general.contains("command") && general["command"].is_array()) {
    for (auto& part : general["command"]) {
      if (part.is_string()) part = substituteVariables(part.get<std::string>(), values);
    }
  }
  return out;
}

Overrides parseOverridesObject(const std::string& text) {
  Json parsed;
  try {
    parsed = parseBoundedJson(text, {2, 100000});
  } catch (const JsonInputError& e) {
    throw std::invalid_argument(std::string("not a JSON object of strings: ") + e.what());
  }
  if (!parsed.is_object()) {
    throw std::invalid_argument("must be a JSON object of strings, not " +
                                apps::typeWithArticle(parsed));
  }
  Overrides out;
  for (const auto& [name, value] : parsed.items()) {
    if (name.empty()) throw std::invalid_argument("an empty variable name");
    if (!value.is_string()) {
      throw std::invalid_argument("the value of " + name + " must be a string, not " +
                                  apps::typeWithArticle(value));
    }
    out[name] = value.get<std::string>();
  }
  return out;
}

}  // namespace qtopology::apps
