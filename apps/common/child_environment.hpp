// The environment a child process gets: this process's, credentials dropped.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace qtopology::apps {

// Whether a variable of this name may hold a credential, and so never
// reaches a topology process: QTOPOLOGY_MYSQL_* (the storage's URL, its
// password file), QTOPOLOGY_DASHBOARD_* (the dashboard's token), MYSQL_PWD
// (the MySQL clients' password variable), and every name that contains
// PASSWORD, PASSWD, TOKEN, SECRET or CREDENTIAL in any case.
bool isSecretVariable(const std::string& name);

// The storage's and the dashboard's own variables: never passed on, even
// when asked for.
bool isCoordinationVariable(const std::string& name);

// This process's environment for a child: the secret variables above
// dropped, except the names in `passed` (an operator's explicit choice,
// which cannot bring back QTOPOLOGY_MYSQL_* or QTOPOLOGY_DASHBOARD_*); then
// `set` added or replaced, as "NAME=value" entries. Entries without '='
// are dropped too.
std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& set,
                                          const std::set<std::string>& passed = {});

}  // namespace qtopology::apps
