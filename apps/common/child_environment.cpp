#include "child_environment.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

extern char** environ;

namespace qtopology::apps {
namespace {

bool startsWith(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

bool isCoordinationVariable(const std::string& name) {
  return startsWith(name, "QTOPOLOGY_MYSQL_") || startsWith(name, "QTOPOLOGY_DASHBOARD_");
}

bool isSecretVariable(const std::string& name) {
  if (isCoordinationVariable(name) || name == "MYSQL_PWD") return true;
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  // A deny-list by name, not an allow-list: topologies need their own
  // variables (PATH, HOME, LANG, what their operator sets), and what holds a
  // credential is named so by convention.
  for (const std::string_view word : {"PASSWORD", "PASSWD", "TOKEN", "SECRET", "CREDENTIAL"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& set,
                                          const std::set<std::string>& passed) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) continue;
    const std::string name = entry.substr(0, equals);
    if (set.count(name) > 0) continue;
    if (isCoordinationVariable(name)) continue;
    if (isSecretVariable(name) && passed.count(name) == 0) continue;
    out.push_back(entry);
  }
  for (const auto& [name, value] : set) out.push_back(name + "=" + value);
  return out;
}

}  // namespace qtopology::apps
