#include "secret_arguments.hpp"

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace qtopology::apps {

void hidePasswordsInArguments(int argc, char** argv) {
  constexpr std::string_view kScheme = "mysql://";
  for (int i = 1; i < argc; ++i) {
    char* const argument = argv[i];
    char* const url = std::strstr(argument, kScheme.data());
    if (!url) continue;
    char* const credentials = url + kScheme.size();
    // As MySqlOptions::fromUrl reads it: the user part ends at the last '@'
    // before the path, the password starts after the first ':' in it.
    char* const path = std::strchr(credentials, '/');
    const std::size_t span =
        path ? static_cast<std::size_t>(path - credentials) : std::strlen(credentials);
    char* at = nullptr;
    for (std::size_t k = 0; k < span; ++k) {
      if (credentials[k] == '@') at = credentials + k;
    }
    if (!at) continue;
    for (char* c = static_cast<char*>(
             std::memchr(credentials, ':', static_cast<std::size_t>(at - credentials)));
         c && ++c < at;) {
      *c = '*';
    }
  }
}

void hideOptionValues(int argc, char** argv, std::initializer_list<std::string_view> options) {
  const auto blank = [](char* text) {
    for (; *text; ++text) *text = '*';
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--") return;
    for (const auto option : options) {
      if (argument == option && i + 1 < argc) {
        blank(argv[++i]);
      } else if (argument.size() > option.size() && argument.substr(0, option.size()) == option &&
                 argument[option.size()] == '=') {
        blank(argv[i] + option.size() + 1);
      }
    }
  }
}

void applyPasswordFileVariable(MySqlOptions& options) {
  const char* path = std::getenv("QTOPOLOGY_MYSQL_PASSWORD_FILE");
  if (!path || !*path || !options.password.empty()) return;
  options.password = MySqlOptions::readPasswordFile(path);
}

}  // namespace qtopology::apps
