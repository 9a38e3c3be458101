// `settings`: the cluster's timeouts and intervals, read and set through the
// storage (getSettings/setSetting), so nobody needs UPDATE qtopology_settings.
#include <ostream>

#include "commands.hpp"
#include "output.hpp"
#include "settings_view.hpp"

namespace qtopology::cli {
namespace {

void listSettings(Context& c) {
  const auto settings = c.storage().getSettings();
  if (c.line.json) return printJson(c.out, settingsJson(settings));
  Table table({"NAME", "VALUE", "STORED", "DEFAULT", "RANGE", "MEANING"});
  for (const auto& s : settings) {
    const auto* spec = findSettingSpec(s.name);
    table.add({s.name, std::to_string(s.value), s.stored.value_or(""),
               spec ? std::to_string(spec->default_value) : "",
               spec ? std::to_string(spec->min) + "-" + std::to_string(spec->max) : "",
               spec ? std::string(spec->meaning) : ""});
  }
  table.print(c.out);
  c.out
      << "(seconds; STORED '-': not set, the default applies; see docs/worker.md#failover-time)\n";
}

void setOneSetting(Context& c) {
  const auto& name = c.line.args.at(0);
  const auto value = parseSettingValue(c.line.args.at(1));
  // Both checked before anything is sent: a bad name or value writes nothing.
  if (!value) {
    if (!findSettingSpec(name)) checkSetting(name, 0);  // names the known settings
    throw CommandError("settings: the value of " + name + " must be a whole number of seconds");
  }
  const auto& spec = checkSetting(name, *value);
  auto& storage = c.storage();
  std::optional<std::int64_t> before;
  for (const auto& s : storage.getSettings()) {
    if (s.name == spec.name) before = s.value;
  }
  storage.setSetting(name, *value);
  c.done(name + " = " + std::to_string(*value) +
         (before ? " (was " + std::to_string(*before) + ")" : std::string()) +
         "; the storage goes by it from its next call, workers within 20 ticks");
}

}  // namespace

void settingsCommand(Context& c) {
  if (c.line.args.empty()) return listSettings(c);
  if (c.line.args.size() != 2) {
    throw UsageError("usage: qtopology-mysql settings [<name> <value>]");
  }
  setOneSetting(c);
}

}  // namespace qtopology::cli
