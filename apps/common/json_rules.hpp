// A small validator for JSON documents, covering what topology files need
// from JSON Schema (draft 4): types, allowed values, object fields (required,
// closed), arrays of one kind, and maps whose every value follows one rule.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::apps {

struct JsonRule;
using JsonRulePtr = std::shared_ptr<const JsonRule>;

struct JsonField {
  std::string name;
  JsonRulePtr rule;
};

struct JsonRule {
  // JSON Schema type names: "object", "array", "string", "integer" (a number
  // without fraction), "number", "boolean". Empty: any type.
  std::vector<std::string> types;
  // When not empty, the value must equal one of these.
  std::vector<Json> allowed_values;
  // For objects.
  std::vector<JsonField> fields;
  std::vector<std::string> required;
  bool closed = false;      // no fields but `fields`
  JsonRulePtr every_value;  // each field's value, when set
  // For arrays: each item, when set.
  JsonRulePtr items;
};

// Builders, so that a rule set reads like the document it describes.
JsonRulePtr ofType(std::vector<std::string> types);
// One of `values`; `types` first, when given, so that a wrong type is named.
JsonRulePtr oneOf(std::vector<Json> values, std::vector<std::string> types = {});
JsonRulePtr arrayOf(JsonRulePtr item);
JsonRulePtr mapOf(JsonRulePtr value);
// An object with these fields; `closed` forbids any other field.
JsonRulePtr objectWith(std::vector<JsonField> fields, std::vector<std::string> required,
                       bool closed);

// Every violation, as "PATH: what is wrong", PATH written the way a person
// finds the field ("general.heartbeat", "bolts[2].inputs[0].source"), the
// fields of an object in name order. Empty when `value` follows `rule`. A
// refused string is shown (escaped, cut) unless `show_values` is false: then
// only its type is named, as answers to a network client do.
std::vector<std::string> violations(const JsonRule& rule, const Json& value,
                                    const std::string& path = "", bool show_values = true);

}  // namespace qtopology::apps
