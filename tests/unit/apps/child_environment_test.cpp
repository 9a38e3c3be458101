// The environment topology processes get: no credentials, whatever the
// worker's own environment holds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "child_environment.hpp"

namespace qtopology::testing {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;

// Sets variables for one test and restores the environment afterwards.
class ScopedVariables {
 public:
  explicit ScopedVariables(const std::map<std::string, std::string>& variables) {
    for (const auto& [name, value] : variables) {
      const char* old = std::getenv(name.c_str());
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedVariables() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(ChildEnvironment, DropsTheStoragesTheDashboardsAndEveryCredentialNamedVariable) {
  const ScopedVariables variables({{"QTOPOLOGY_MYSQL_URL", "mysql://u:secret@h/db"},
                                   {"QTOPOLOGY_MYSQL_PASSWORD_FILE", "/etc/q/pw"},
                                   {"QTOPOLOGY_DASHBOARD_TOKEN", "t0ken"},
                                   {"QTOPOLOGY_DASHBOARD_ANYTHING", "x"},
                                   {"MYSQL_PWD", "pw"},
                                   {"DB_PASSWORD", "pw"},
                                   {"my_passwd", "pw"},
                                   {"GITHUB_TOKEN", "ghp"},
                                   {"AWS_SECRET_ACCESS_KEY", "k"},
                                   {"GOOGLE_APPLICATION_CREDENTIALS", "/k.json"},
                                   {"Api_Token", "lower and mixed case too"},
                                   {"PLAIN_SETTING", "kept"},
                                   {"QTOPOLOGY_OTHER", "kept too"}});
  const auto env = apps::childEnvironment({{"QTOPOLOGY_UUID", "t1"}});
  for (const std::string name :
       {"QTOPOLOGY_MYSQL_URL", "QTOPOLOGY_MYSQL_PASSWORD_FILE", "QTOPOLOGY_DASHBOARD_TOKEN",
        "QTOPOLOGY_DASHBOARD_ANYTHING", "MYSQL_PWD", "DB_PASSWORD", "my_passwd", "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "Api_Token"}) {
    for (const auto& entry : env) {
      EXPECT_NE(entry.substr(0, entry.find('=')), name) << entry;
    }
  }
  EXPECT_THAT(
      env, IsSupersetOf({"PLAIN_SETTING=kept", "QTOPOLOGY_OTHER=kept too", "QTOPOLOGY_UUID=t1"}));
  EXPECT_THAT(env, Contains(::testing::StartsWith("PATH=")));
}

TEST(ChildEnvironment, PassedNamesGoThroughExceptTheStoragesAndTheDashboards) {
  const ScopedVariables variables({{"GITHUB_TOKEN", "ghp"},
                                   {"QTOPOLOGY_MYSQL_URL", "mysql://u:secret@h/db"},
                                   {"QTOPOLOGY_DASHBOARD_TOKEN", "t0ken"}});
  apps::EnvironmentRules rules;
  rules.passed = {"GITHUB_TOKEN", "QTOPOLOGY_MYSQL_URL", "QTOPOLOGY_DASHBOARD_TOKEN"};
  const auto env = apps::childEnvironment({}, rules);
  EXPECT_THAT(env, Contains("GITHUB_TOKEN=ghp"));
  EXPECT_THAT(env, Not(Contains("QTOPOLOGY_MYSQL_URL=mysql://u:secret@h/db")));
  EXPECT_THAT(env, Not(Contains("QTOPOLOGY_DASHBOARD_TOKEN=t0ken")));
}

TEST(ChildEnvironment, SetReplacesWhatTheWorkerHas) {
  const ScopedVariables variables(
      std::map<std::string, std::string>{{"QTOPOLOGY_UUID", "the worker's own"}});
  const auto env = apps::childEnvironment({{"QTOPOLOGY_UUID", "t1"}});
  EXPECT_THAT(env, Contains("QTOPOLOGY_UUID=t1"));
  EXPECT_THAT(env, Not(Contains("QTOPOLOGY_UUID=the worker's own")));
}

TEST(ChildEnvironment, SecretNames) {
  EXPECT_TRUE(apps::isSecretVariable("QTOPOLOGY_MYSQL_URL"));
  EXPECT_TRUE(apps::isSecretVariable("db_password"));
  EXPECT_TRUE(apps::isSecretVariable("MYSQL_PWD"));
  EXPECT_FALSE(apps::isSecretVariable("PATH"));
  EXPECT_FALSE(apps::isSecretVariable("QTOPOLOGY_UUID"));
  EXPECT_FALSE(apps::isSecretVariable("KEYBOARD"));
  EXPECT_TRUE(apps::isCoordinationVariable("QTOPOLOGY_DASHBOARD_TOKEN"));
  EXPECT_FALSE(apps::isCoordinationVariable("GITHUB_TOKEN"));
}

// What the issue found going through, and its neighbours.
TEST(ChildEnvironment, KeysPassfilesAndUrlsWithPasswordsAreSecret) {
  for (const char* name :
       {"AWS_ACCESS_KEY_ID", "STRIPE_API_KEY", "api_key", "KEY", "KEY_FILE", "OPENAI_APIKEY",
        "GCP_PRIVATEKEY", "PGPASSFILE", "mysql_passfile", "DATABASE_URL", "SSH_AUTH_SOCK"}) {
    EXPECT_TRUE(apps::isSecretVariable(name)) << name;
  }
  for (const char* name : {"KEYBOARD", "XKB_KEYMAP", "MONKEY_MODE", "HOME", "LC_ALL", "PASS"}) {
    EXPECT_FALSE(apps::isSecretVariable(name)) << name;
  }
  // Any name whose value is a URL with a password in it.
  EXPECT_TRUE(apps::isSecretVariable("REDIS_URL", "redis://app:hunter2@cache:6379/0"));
  EXPECT_TRUE(apps::isSecretVariable("https_proxy", "http://me:pw@proxy:3128"));
  EXPECT_TRUE(apps::isSecretVariable("AMQP", "x amqps://u:p@[::1]:5671/vhost"));
  EXPECT_FALSE(apps::isSecretVariable("REDIS_URL", "redis://cache:6379/0"));
  EXPECT_FALSE(apps::isSecretVariable("SENTRY_URL", "https://publickey@sentry.example/1"));
  EXPECT_FALSE(apps::isSecretVariable("DOCS_URL", "https://example.org/a:b@c"));
  EXPECT_FALSE(apps::isSecretVariable("EMPTY_PW_URL", "ftp://user:@host/"));
  EXPECT_TRUE(apps::holdsUrlCredentials("postgres://u:p@db/x"));
  EXPECT_FALSE(apps::holdsUrlCredentials("no url here: a:b@c"));
}

TEST(ChildEnvironment, DenyListDropsTheNewNamesAndValues) {
  const ScopedVariables variables({{"AWS_ACCESS_KEY_ID", "AKIA"},
                                   {"STRIPE_API_KEY", "sk"},
                                   {"PGPASSFILE", "/home/op/.pgpass"},
                                   {"DATABASE_URL", "postgres://db/app"},
                                   {"CACHE_URL", "redis://app:hunter2@cache/0"},
                                   {"PUBLIC_URL", "https://example.org/"}});
  const auto env = apps::childEnvironment({});
  for (const auto& entry : env) {
    const auto name = entry.substr(0, entry.find('='));
    for (const char* dropped :
         {"AWS_ACCESS_KEY_ID", "STRIPE_API_KEY", "PGPASSFILE", "DATABASE_URL", "CACHE_URL"}) {
      EXPECT_NE(name, dropped) << entry;
    }
  }
  EXPECT_THAT(env, Contains("PUBLIC_URL=https://example.org/"));
}

TEST(ChildEnvironment, AllowListPassesOnlyTheBaseSetAndTheNamedVariables) {
  const ScopedVariables variables({{"PATH", "/usr/bin:/bin"},
                                   {"HOME", "/home/op"},
                                   {"LANG", "C.UTF-8"},
                                   {"LC_TIME", "en_GB.UTF-8"},
                                   {"TZ", "Europe/Ljubljana"},
                                   {"NODE_PATH", "/opt/node_modules"},
                                   {"APP_MODE", "fast"},
                                   {"APP_REGION", "eu"},
                                   {"APP_TOKEN", "still a credential"},
                                   {"CACHE_URL", "redis://app:hunter2@cache/0"},
                                   {"PLAIN_SETTING", "not named"},
                                   {"GITHUB_TOKEN", "ghp"},
                                   {"QTOPOLOGY_MYSQL_URL", "mysql://u:secret@h/db"}});
  apps::EnvironmentRules rules;
  rules.allowed = std::vector<std::string>{"APP_*", "CACHE_URL", "MISSING"};
  rules.passed = {"GITHUB_TOKEN", "QTOPOLOGY_MYSQL_URL"};
  auto env = apps::childEnvironment({{"QTOPOLOGY_UUID", "t1"}}, rules);
  std::sort(env.begin(), env.end());
  std::vector<std::string> expected = {"APP_MODE=fast",
                                       "APP_REGION=eu",
                                       "GITHUB_TOKEN=ghp",
                                       "HOME=/home/op",
                                       "LANG=C.UTF-8",
                                       "LC_TIME=en_GB.UTF-8",
                                       "NODE_PATH=/opt/node_modules",
                                       "PATH=/usr/bin:/bin",
                                       "QTOPOLOGY_UUID=t1",
                                       "TZ=Europe/Ljubljana"};
  // Whatever else of the base set the test's own environment has (USER,
  // SHELL, ...).
  for (const auto& entry : env) {
    const auto name = entry.substr(0, entry.find('='));
    const bool base =
        std::any_of(apps::baseEnvironment().begin(), apps::baseEnvironment().end(),
                    [&](auto pattern) { return apps::matchesNamePattern(pattern, name); });
    if (base && std::find(expected.begin(), expected.end(), entry) == expected.end()) {
      expected.push_back(entry);
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(env, expected);
}

TEST(ChildEnvironment, NamePatterns) {
  EXPECT_TRUE(apps::matchesNamePattern("LC_*", "LC_ALL"));
  EXPECT_TRUE(apps::matchesNamePattern("PATH", "PATH"));
  EXPECT_FALSE(apps::matchesNamePattern("PATH", "PATHEXT"));
  EXPECT_FALSE(apps::matchesNamePattern("LC_*", "LANG"));
  EXPECT_THAT(apps::baseEnvironment(),
              IsSupersetOf({"PATH", "HOME", "LANG", "LC_*", "TZ", "NODE_PATH"}));
}

}  // namespace
}  // namespace qtopology::testing
