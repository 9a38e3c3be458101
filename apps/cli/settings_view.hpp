// The cluster's settings as the CLI and the dashboard show them: each stored
// value beside its default, range and meaning from clusterSettingSpecs().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::cli {

// [{name, value, stored, default, min, max, meaning}], in the storage's order;
// stored is null when the storage holds nothing for the setting.
Json settingsJson(const std::vector<ClusterSetting>& settings);

// A whole number of seconds, as `settings NAME VALUE` and the dashboard take
// it; std::nullopt for anything else ("", "3.5", "1e3", " 3", "3s").
std::optional<std::int64_t> parseSettingValue(const std::string& text);

}  // namespace qtopology::cli
