#include "access_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <qtopology/text.hpp>

namespace qtopology::cli::dashboard {
namespace {

// Compares without stopping at the first difference, so the time taken does
// not tell an attacker how much of a guessed token was right.
bool equalInConstantTime(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

// The host part of "host", "host:port", "[v6]", "[v6]:port".
std::string hostPart(const std::string& authority) {
  if (!authority.empty() && authority.front() == '[') {
    const auto end = authority.find(']');
    return end == std::string::npos ? authority : authority.substr(1, end - 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool equalNoCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

ListenAddress parseListenAddress(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("--listen wants HOST:PORT (e.g. 127.0.0.1:8080), not '" +
                                escapeControl(text) + "'");
  }
  ListenAddress address;
  address.host = text.substr(0, colon);
  if (address.host.front() == '[') {
    if (address.host.back() != ']') {
      throw std::invalid_argument("--listen: unclosed '[' in '" + escapeControl(text) + "'");
    }
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  const auto port = text.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
      std::stoi(port) > 65535) {
    throw std::invalid_argument("--listen: the port must be a number from 0 to 65535, not '" +
                                escapeControl(port) + "'");
  }
  address.port = std::stoi(port);
  return address;
}

bool isLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool AccessPolicy::tokenMatches(const std::string& presented_token) const {
  return !rules_.token.empty() && equalInConstantTime(presented_token, rules_.token);
}

std::optional<std::string> AccessPolicy::refuseWrite(const std::string& presented_token) const {
  if (rules_.read_only) return "this dashboard runs with --read-only: write actions are refused";
  if (rules_.token.empty()) {
    if (rules_.loopback) return std::nullopt;
    return "write actions are refused: the dashboard listens beyond loopback without a token";
  }
  if (presented_token.empty()) {
    return std::string("write actions need the token in the ") + kTokenHeader + " header";
  }
  if (!tokenMatches(presented_token)) {
    return std::string("wrong token in the ") + kTokenHeader + " header";
  }
  return std::nullopt;
}

std::optional<std::string> AccessPolicy::refuseRead(const std::string& presented_token) const {
  if (readsOpen()) return std::nullopt;
  if (presented_token.empty()) {
    return std::string("reads need the token in the ") + kTokenHeader + " header" +
           (exposed() ? " (this dashboard is reachable beyond loopback)"
                      : " (on loopback too, unless the dashboard runs with --open-reads)");
  }
  if (!tokenMatches(presented_token)) {
    return std::string("wrong token in the ") + kTokenHeader + " header";
  }
  return std::nullopt;
}

std::optional<std::string> AccessPolicy::refuseHost(const std::string& host_header) const {
  const auto host = hostPart(host_header);
  if (isLoopback(host)) return std::nullopt;
  for (const auto& name : rules_.public_hosts) {
    if (equalNoCase(hostPart(name), host)) return std::nullopt;
  }
  if (rules_.public_hosts.empty() && rules_.loopback) {
    return std::string(
        "this dashboard listens on loopback and answers only requests whose Host header names "
        "localhost");
  }
  return std::string(
      "this dashboard answers only requests whose Host header names localhost or one of its "
      "--public-host names");
}

std::string AccessPolicy::writeMode() const {
  if (rules_.read_only || (rules_.token.empty() && !rules_.loopback)) return "refused";
  return rules_.token.empty() ? "open" : "token";
}

std::string presentedToken(const std::string& token_header, const std::string& authorization) {
  if (!token_header.empty()) return token_header;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() &&
      equalNoCase(authorization.substr(0, kBearer.size()), std::string(kBearer))) {
    return authorization.substr(kBearer.size());
  }
  return "";
}

bool sameOrigin(const std::string& origin, const std::string& host_header) {
  if (origin.empty()) return true;  // not a browser, or a same-origin GET
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string::npos) return false;  // "null" and other opaque origins
  return origin.substr(scheme_end + 3) == host_header;
}

}  // namespace qtopology::cli::dashboard
