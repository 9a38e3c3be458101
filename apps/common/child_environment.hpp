// The environment a child process gets: this process's, credentials dropped,
// or with an allow-list only what the operator named.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace qtopology::apps {

// What reaches a topology process from the worker's environment.
struct EnvironmentRules {
  // --pass-env: names the credential filter would drop that go through all
  // the same (never QTOPOLOGY_MYSQL_* or QTOPOLOGY_DASHBOARD_*), with or
  // without an allow-list.
  std::set<std::string> passed;
  // --env-allow: when set, only these names (NAME, or PREFIX* for every name
  // that starts with PREFIX) and the base set go through; the credential
  // filter still applies to them. nullopt: every variable but the
  // credentials.
  std::optional<std::vector<std::string>> allowed;
};

// The names an allow-list always lets through, because programs need them
// to run at all: PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TZ,
// TMPDIR and NODE_PATH (where Node topologies find their modules).
const std::vector<std::string_view>& baseEnvironment();

// Whether `name` is `pattern`, or starts with what precedes a trailing '*'.
bool matchesNamePattern(std::string_view pattern, std::string_view name);

// Whether a value holds a URL with a password in it ("scheme://user:pw@...").
bool holdsUrlCredentials(std::string_view value);

// Whether a variable may hold a credential, and so never reaches a topology
// process: QTOPOLOGY_MYSQL_* (the storage's URL, its password file),
// QTOPOLOGY_DASHBOARD_* (the dashboard's token), MYSQL_PWD, DATABASE_URL,
// SSH_AUTH_SOCK (the keys of the operator's agent); in any case, every name
// that contains PASSWORD, PASSWD, TOKEN, SECRET or CREDENTIAL, ends in
// PASSFILE (PGPASSFILE), or has KEY, APIKEY, ACCESSKEY or PRIVATEKEY as one
// of its '_'-separated words (API_KEY, AWS_ACCESS_KEY_ID, KEY_FILE, not
// KEYBOARD); and, whatever its name, a value that holds a URL with a
// password (REDIS_URL=redis://u:pw@host, https_proxy=http://u:pw@proxy).
bool isSecretVariable(const std::string& name, std::string_view value = {});

// The storage's and the dashboard's own variables: never passed on, even
// when asked for.
bool isCoordinationVariable(const std::string& name);

// This process's environment for a child, by `rules`; then `set` added or
// replaced, as "NAME=value" entries. Entries without '=' are dropped too.
std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& set,
                                          const EnvironmentRules& rules = {});

}  // namespace qtopology::apps
