#include <qtopology/coordination_storage.hpp>
#include <qtopology/mysql_options.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <qtopology/text.hpp>

#include "session_options.hpp"

namespace qtopology {
namespace {

[[noreturn]] void badUrl(const std::string& what) {
  throw InvalidArgument("MySqlOptions::fromUrl: " + what);
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view in, const char* part) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    const int hi = i + 2 < in.size() ? hexValue(in[i + 1]) : -1;
    const int lo = hi >= 0 ? hexValue(in[i + 2]) : -1;
    if (lo < 0) badUrl(std::string("bad percent-escape in the ") + part);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <typename Number>
Number parseNumber(std::string_view text, std::string_view key, Number min_value) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min_value) {
    badUrl("'" + std::string(key) + "' must be a whole number >= " + std::to_string(min_value) +
           ", got '" + std::string(text) + "'");
  }
  return value;
}

bool parseFlag(std::string_view text, std::string_view key) {
  if (text == "1" || text == "true" || text == "yes") return true;
  if (text == "0" || text == "false" || text == "no") return false;
  badUrl("'" + std::string(key) + "' must be 0 or 1, got '" + std::string(text) + "'");
}

// ssl_mode as the URL spells it, and as errors name it (sslModeName).
constexpr std::pair<const char*, MySqlOptions::SslMode> kSslModes[] = {
    {"DISABLED", MySqlOptions::SslMode::disabled},
    {"PREFERRED", MySqlOptions::SslMode::preferred},
    {"REQUIRED", MySqlOptions::SslMode::required},
    {"VERIFY_CA", MySqlOptions::SslMode::verify_ca},
    {"VERIFY_IDENTITY", MySqlOptions::SslMode::verify_identity}};

MySqlOptions::SslMode parseSslMode(const std::string& text) {
  std::string upper = text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& [name, mode] : kSslModes) {
    if (upper == name) return mode;
  }
  badUrl("'ssl_mode' must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY");
}

// "a,b,c": plugin names as servers spell them (letters, digits, '_').
std::vector<std::string> parsePluginList(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    std::string name = text.substr(start, comma - start);
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!plain) {
      badUrl("'auth_plugins' must be a comma-separated list of plugin names, got '" +
             escapeControl(text) + "'");
    }
    names.push_back(std::move(name));
    start = comma + 1;
  }
  return names;
}

void applyQueryParameter(MySqlOptions& o, std::string_view key, const std::string& value) {
  if (key == "pool_size") {
    o.pool_size = parseNumber<std::size_t>(value, key, 1);
  } else if (key == "socket") {
    o.unix_socket = value;
  } else if (key == "check_only") {
    o.db_check_only = parseFlag(value, key);
  } else if (key == "retries") {
    o.retries = parseNumber<int>(value, key, 0);
  } else if (key == "retry_timeout_ms") {
    o.retry_timeout = std::chrono::milliseconds(parseNumber<long>(value, key, 0));
  } else if (key == "connect_timeout_s") {
    o.connect_timeout = std::chrono::seconds(parseNumber<long>(value, key, 1));
  } else if (key == "read_timeout_s") {
    o.read_timeout = std::chrono::seconds(parseNumber<long>(value, key, 0));
  } else if (key == "ssl_mode") {
    o.ssl_mode = parseSslMode(value);
  } else if (key == "password_file") {
    if (!o.password.empty()) badUrl("give the password in the URL or in password_file, not both");
    o.password = MySqlOptions::readPasswordFile(value);
  } else if (key == "ssl_ca") {
    o.ssl_ca = value;
  } else if (key == "ssl_cert") {
    o.ssl_cert = value;
  } else if (key == "ssl_key") {
    o.ssl_key = value;
  } else if (key == "auth_plugins") {
    o.auth_plugins = parsePluginList(value);
  } else if (key == "allow_cleartext_password") {
    o.allow_cleartext_password = parseFlag(value, key);
  } else if (key == "server_public_key") {
    if (value.empty()) badUrl("'server_public_key' must name a PEM file");
    o.server_public_key = value;
  } else if (key == "get_server_public_key") {
    o.get_server_public_key = parseFlag(value, key);
  } else {
    badUrl("unknown parameter '" + std::string(key) + "'");
  }
}

// "host", "host:port", "[v6]" or "[v6]:port"; the host is left empty when
// missing, the port takes the default.
MySqlOptions::Endpoint parseHost(std::string_view authority) {
  MySqlOptions::Endpoint out;
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:3306
    const auto close = authority.find(']');
    if (close == std::string_view::npos) badUrl("unterminated '[' in the host");
    host = authority.substr(1, close - 1);
    authority = authority.substr(close + 1);
    if (!authority.empty() && authority.front() != ':') badUrl("unexpected text after ']'");
    if (!authority.empty()) out.port = parseNumber<unsigned>(authority.substr(1), "port", 1);
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    out.port = parseNumber<unsigned>(authority.substr(colon + 1), "port", 1);
  }
  if (out.port > 65535) badUrl("port out of range");
  out.host = percentDecode(host, "host");
  return out;
}

}  // namespace

const char* detail::sslModeName(MySqlOptions::SslMode mode) {
  for (const auto& [name, m] : kSslModes) {
    if (m == mode) return name;
  }
  return "automatic";
}

std::string MySqlOptions::readPasswordFile(const std::string& path) {
  const std::string what = "password_file '" + escapeControl(path) + "'";
  // O_NOFOLLOW: a link another user planted must not choose the file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) badUrl(what + " cannot be opened: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) badUrl(what + " is not a regular file");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    badUrl(what + " may be read by group or others: chmod 600 it");
  }
  constexpr std::size_t kLongest = 4096;
  std::string content(kLongest + 1, '\0');
  std::size_t filled = 0;
  for (ssize_t got; filled < content.size() &&
                    (got = ::read(fd, content.data() + filled, content.size() - filled)) != 0;) {
    if (got < 0) {
      if (errno == EINTR) continue;
      badUrl(what + " cannot be read: " + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(got);
  }
  content.resize(filled);
  const auto end_of_line = content.find_first_of("\r\n");
  if (end_of_line == std::string::npos && content.size() > kLongest) {
    badUrl(what + " holds no password of at most 4096 bytes on its first line");
  }
  content.resize(std::min(end_of_line, content.size()));
  if (content.empty()) badUrl(what + " is empty");
  return content;
}

MySqlOptions::SslMode MySqlOptions::effectiveSslMode() const {
  SslMode mode = ssl_mode;
  if (mode == SslMode::automatic) mode = ssl_ca.empty() ? SslMode::preferred : SslMode::verify_ca;
  if ((mode == SslMode::verify_ca || mode == SslMode::verify_identity) && ssl_ca.empty()) {
    throw InvalidArgument("MySqlOptions: ssl_mode VERIFY_CA and VERIFY_IDENTITY need ssl_ca");
  }
  if (mode == SslMode::disabled && !(ssl_ca.empty() && ssl_cert.empty() && ssl_key.empty())) {
    throw InvalidArgument("MySqlOptions: ssl_mode DISABLED contradicts ssl_ca, ssl_cert, ssl_key");
  }
  return mode;
}

std::vector<MySqlOptions::Endpoint> MySqlOptions::endpoints() const {
  if (!hosts.empty()) return hosts;
  return {Endpoint{host, port}};
}

MySqlOptions MySqlOptions::fromUrl(std::string_view url) {
  constexpr std::string_view scheme = "mysql://";
  if (url.substr(0, scheme.size()) != scheme) badUrl("the URL must start with mysql://");
  std::string_view rest = url.substr(scheme.size());
  MySqlOptions o;

  // The user part ends at the last '@', so a password with an unencoded '/',
  // '?' or '@' still parses, and is never mistaken for the host or path
  // (which error messages quote).
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    o.user = percentDecode(userinfo.substr(0, colon), "user");
    if (colon != std::string_view::npos) {
      o.password = percentDecode(userinfo.substr(colon + 1), "password");
    }
  }
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    o.database = percentDecode(rest.substr(slash + 1), "database");
  }
  std::vector<Endpoint> servers;
  while (true) {
    const auto comma = authority.find(',');
    servers.push_back(parseHost(authority.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    authority = authority.substr(comma + 1);
  }
  if (servers.size() > 1) {
    for (const auto& server : servers) {
      if (server.host.empty()) badUrl("a host is missing in the list of hosts");
    }
    o.hosts = servers;
  }
  if (!servers.front().host.empty()) o.host = servers.front().host;
  o.port = servers.front().port;

  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) badUrl("parameter '" + std::string(pair) + "' has no value");
    applyQueryParameter(o, pair.substr(0, eq), percentDecode(pair.substr(eq + 1), "query"));
  }
  o.effectiveSslMode();  // refuses contradicting TLS settings now
  return o;
}

}  // namespace qtopology
