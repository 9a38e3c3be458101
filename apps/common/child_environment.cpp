#include "child_environment.hpp"

#include <algorithm>
#include <cctype>

extern char** environ;

namespace qtopology::apps {
namespace {

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string upperCase(const std::string& text) {
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper;
}

// A name's '_'-separated words: a key is named KEY (API_KEY, KEY_ID), while
// a word that merely starts with it (KEYBOARD, KEYMAP) is something else.
bool hasKeyWord(std::string_view upper) {
  std::size_t start = 0;
  while (start <= upper.size()) {
    const auto end = std::min(upper.find('_', start), upper.size());
    const auto word = upper.substr(start, end - start);
    for (const std::string_view key : {"KEY", "APIKEY", "ACCESSKEY", "PRIVATEKEY"}) {
      if (word == key) return true;
    }
    start = end + 1;
  }
  return false;
}

bool allowed(const EnvironmentRules& rules, const std::string& name) {
  if (!rules.allowed) return true;
  const auto matches = [&](std::string_view pattern) { return matchesNamePattern(pattern, name); };
  return std::any_of(baseEnvironment().begin(), baseEnvironment().end(), matches) ||
         std::any_of(rules.allowed->begin(), rules.allowed->end(),
                     [&](const std::string& pattern) { return matches(pattern); });
}

}  // namespace

const std::vector<std::string_view>& baseEnvironment() {
  static const std::vector<std::string_view> base = {"PATH",  "HOME",   "USER",     "LOGNAME",
                                                     "SHELL", "LANG",   "LANGUAGE", "LC_*",
                                                     "TZ",    "TMPDIR", "NODE_PATH"};
  return base;
}

bool matchesNamePattern(std::string_view pattern, std::string_view name) {
  if (!pattern.empty() && pattern.back() == '*') {
    return startsWith(name, pattern.substr(0, pattern.size() - 1));
  }
  return pattern == name;
}

bool holdsUrlCredentials(std::string_view value) {
  for (auto scheme = value.find("://"); scheme != std::string_view::npos;
       scheme = value.find("://", scheme + 3)) {
    // As URL parsers read it: the authority ends at the first '/', '?' or
    // '#'; the user part at its last '@'; the password follows the first ':'.
    auto authority = value.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    const auto colon = authority.substr(0, at).find(':');
    if (colon != std::string_view::npos && colon + 1 < at) return true;
  }
  return false;
}

bool isCoordinationVariable(const std::string& name) {
  return startsWith(name, "QTOPOLOGY_MYSQL_") || startsWith(name, "QTOPOLOGY_DASHBOARD_");
}

bool isSecretVariable(const std::string& name, std::string_view value) {
  if (isCoordinationVariable(name)) return true;
  const std::string upper = upperCase(name);
  // A deny-list by name and by what a value looks like: what holds a
  // credential is named so by convention, or is a URL that carries it.
  for (const std::string_view exact : {"MYSQL_PWD", "DATABASE_URL", "SSH_AUTH_SOCK"}) {
    if (upper == exact) return true;
  }
  for (const std::string_view word : {"PASSWORD", "PASSWD", "TOKEN", "SECRET", "CREDENTIAL"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return endsWith(upper, "PASSFILE") || hasKeyWord(upper) || holdsUrlCredentials(value);
}

std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& set,
                                          const EnvironmentRules& rules) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) continue;
    const std::string name = entry.substr(0, equals);
    if (set.count(name) > 0 || isCoordinationVariable(name)) continue;
    if (rules.passed.count(name) == 0) {
      if (!allowed(rules, name)) continue;
      if (isSecretVariable(name, std::string_view(entry).substr(equals + 1))) continue;
    }
    out.push_back(entry);
  }
  for (const auto& [name, value] : set) out.push_back(name + "=" + value);
  return out;
}

}  // namespace qtopology::apps
