#include "json_rules.hpp"

#include <algorithm>
#include <cmath>

#include <qtopology/text.hpp>

#include "json_type.hpp"

namespace qtopology::apps {
namespace {

bool hasType(const Json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    // JSON Schema counts 3.0 as an integer: the value matters, not its spelling.
    if (value.is_number_integer()) return true;
    if (!value.is_number_float()) return false;
    const double d = value.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

std::string withArticle(const std::string& type) {
  const bool vowel = !type.empty() && std::string("aeiou").find(type[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + type;
}

std::string joined(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

std::string fieldPath(const std::string& parent, const std::string& field) {
  return parent.empty() ? field : parent + "." + field;
}

std::string shown(const std::string& path) { return path.empty() ? "the document" : path; }

// A refused value in an error: a short string escaped and cut, since the text
// may reach a terminal or a log; anything else, or anything when values are
// not to be shown, only by its type.
std::string shownValue(const Json& value, bool show_values) {
  if (!value.is_string() || !show_values) return apps::typeWithArticle(value);
  constexpr std::size_t kShown = 40;
  const auto& text = value.get_ref<const std::string&>();
  return "\"" + escapeControl(text.substr(0, kShown)) + (text.size() > kShown ? "...\"" : "\"");
}

void check(const JsonRule& rule, const Json& value, const std::string& path, bool show_values,
           std::vector<std::string>& out) {
  if (!rule.types.empty() &&
      std::none_of(rule.types.begin(), rule.types.end(),
                   [&](const std::string& t) { return hasType(value, t); })) {
    std::vector<std::string> names;
    for (const auto& t : rule.types) names.push_back(withArticle(t));
    out.push_back(shown(path) + ": must be " + joined(names, " or ") + ", not " +
                  apps::typeWithArticle(value));
    return;  // its fields or items mean nothing then
  }
  if (!rule.allowed_values.empty() &&
      std::find(rule.allowed_values.begin(), rule.allowed_values.end(), value) ==
          rule.allowed_values.end()) {
    std::vector<std::string> names;
    for (const auto& v : rule.allowed_values) names.push_back(v.dump());
    out.push_back(shown(path) + ": must be one of " + joined(names, ", ") + ", not " +
                  shownValue(value, show_values));
    return;
  }
  if (value.is_object()) {
    for (const auto& name : rule.required) {
      if (!value.contains(name)) out.push_back(fieldPath(path, name) + ": is required");
    }
    for (const auto& [name, field_value] : value.items()) {
      const auto field = std::find_if(rule.fields.begin(), rule.fields.end(),
                                      [&](const JsonField& f) { return f.name == name; });
      if (field != rule.fields.end()) {
        check(*field->rule, field_value, fieldPath(path, name), show_values, out);
      } else if (rule.closed) {
        std::vector<std::string> names;
        for (const auto& f : rule.fields) names.push_back(f.name);
        out.push_back(fieldPath(path, name) + ": is not allowed here (the fields of " +
                      shown(path) + " are " + joined(names, ", ") + ")");
      }
      if (rule.every_value) {
        check(*rule.every_value, field_value, fieldPath(path, name), show_values, out);
      }
    }
  }
  if (value.is_array() && rule.items) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      check(*rule.items, value[i], path + "[" + std::to_string(i) + "]", show_values, out);
    }
  }
}

}  // namespace

JsonRulePtr ofType(std::vector<std::string> types) {
  auto rule = std::make_shared<JsonRule>();
  rule->types = std::move(types);
  return rule;
}

JsonRulePtr oneOf(std::vector<Json> values, std::vector<std::string> types) {
  auto rule = std::make_shared<JsonRule>();
  rule->types = std::move(types);
  rule->allowed_values = std::move(values);
  return rule;
}

JsonRulePtr arrayOf(JsonRulePtr item) {
  auto rule = std::make_shared<JsonRule>();
  rule->types = {"array"};
  rule->items = std::move(item);
  return rule;
}

JsonRulePtr mapOf(JsonRulePtr value) {
  auto rule = std::make_shared<JsonRule>();
  rule->types = {"object"};
  rule->every_value = std::move(value);
  return rule;
}

JsonRulePtr objectWith(std::vector<JsonField> fields, std::vector<std::string> required,
                       bool closed) {
  auto rule = std::make_shared<JsonRule>();
  rule->types = {"object"};
  rule->fields = std::move(fields);
  rule->required = std::move(required);
  rule->closed = closed;
  return rule;
}

std::vector<std::string> violations(const JsonRule& rule, const Json& value,
                                    const std::string& path, bool show_values) {
  std::vector<std::string> out;
  check(rule, value, path, show_values, out);
  return out;
}

}  // namespace qtopology::apps
