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

void applyPasswordFileVariable(MySqlOptions& options) {
  const char* path = std::getenv("QTOPOLOGY_MYSQL_PASSWORD_FILE");
  if (!path || !*path || !options.password.empty()) return;
  options.password = MySqlOptions::readPasswordFile(path);
}

}  // namespace qtopology::apps
