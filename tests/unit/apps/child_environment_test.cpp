// The environment topology processes get: no credentials, whatever the
// worker's own environment holds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  const auto env = apps::childEnvironment(
      {}, {"GITHUB_TOKEN", "QTOPOLOGY_MYSQL_URL", "QTOPOLOGY_DASHBOARD_TOKEN"});
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

}  // namespace
}  // namespace qtopology::testing
