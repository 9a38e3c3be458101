#include "settings_view.hpp"

#include <charconv>

namespace qtopology::cli {

Json settingsJson(const std::vector<ClusterSetting>& settings) {
  Json all = Json::array();
  for (const auto& s : settings) {
    Json j = {{"name", s.name},
              {"value", s.value},
              {"stored", s.stored ? Json(*s.stored) : Json(nullptr)}};
    // A storage may list a setting this build does not know (a newer one).
    if (const auto* spec = findSettingSpec(s.name)) {
      j["default"] = spec->default_value;
      j["min"] = spec->min;
      j["max"] = spec->max;
      j["meaning"] = std::string(spec->meaning);
    }
    all.push_back(std::move(j));
  }
  return all;
}

std::optional<std::int64_t> parseSettingValue(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [at, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || at != end) return std::nullopt;
  return value;
}

}  // namespace qtopology::cli
