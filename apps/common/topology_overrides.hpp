// A worker's overrides (qtopology-worker --override NAME=VALUE,
// --overrides-file): values that replace a topology's `variables` of the same
// name before the topology is compiled, as Node qtopology's TopologyWorker
// `overrides` option does.
//
// - A Node topology: each override replaces (or adds) variables.NAME; the
//   compiler in qtopology's child then substitutes "${NAME}" as it always
//   does.
// - A command topology: the same variables (the config's own `variables`,
//   an object of strings, overrides applied) are substituted into each
//   string of general.command by the rules of qtopology's compiler: variables
//   are first substituted into one another once, in name order; then
//   "${NAME}" is replaced, the name matched without regard to case. Unlike
//   qtopology's compiler, every occurrence is replaced (it replaces only the
//   first of each name in a string), and a name is matched literally (it
//   reads it as a regular expression). "${X}" of an unknown X stays as it is.
#pragma once

#include <map>
#include <string>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::apps {

using Overrides = std::map<std::string, std::string>;

// `config` with the overrides applied, in its format. A command topology
// whose `variables` is not an object of strings is left to the validation,
// which refuses it: InvalidTopology from here names the field.
Json applyOverrides(const Json& config, const Overrides& overrides);

// "${NAME}" in `text` replaced from `variables` (names matched without
// regard to case), every occurrence.
std::string substituteVariables(const std::string& text, const Overrides& variables);

// A JSON object of strings, as --overrides-file holds it. Throws
// std::invalid_argument naming what is wrong.
Overrides parseOverridesObject(const std::string& text);

}  // namespace qtopology::apps
