// The dashboard's access token: made at start unless the operator gave one,
// and left where only its user can read it.
#pragma once

#include <string>

namespace qtopology::cli::dashboard {

// 256 random bits from the kernel (getrandom), as 64 hex digits. Throws
// std::runtime_error when the kernel gives none.
std::string generateToken();

// Refuses a token that may hold fewer than 128 random bits, judged by its
// length and alphabet (its value cannot be judged): at least 32 characters
// when all are hex digits (4 bits each), at least 22 otherwise (a base64url
// character holds 6), at most 1,024, only visible ASCII (it travels in an
// HTTP header), and at least 8 different characters (no "aaaa..."). Throws
// std::invalid_argument saying which rule failed and naming `source` (the
// option or variable it came from), never the token.
void checkTokenStrength(const std::string& token, const std::string& source);

// Reads a token from a file made for it: a regular file (not followed
// through a symbolic link) of this user that group and others can neither
// read nor write, as the storage's password_file; its first line, without
// the newline. Throws std::runtime_error naming the path (escaped) and what
// is wrong; checkTokenStrength's rules apply too.
std::string readTokenFile(const std::string& path);

// $XDG_RUNTIME_DIR/qtopology-dashboard-PORT.token; empty when
// $XDG_RUNTIME_DIR is unset or not absolute.
std::string defaultTokenPath(int port);

// Writes `token` and a newline to a new file at `path`, mode 0600, created
// with O_EXCL and never through a symbolic link. A regular file of this user
// already there (left by a dashboard that did not stop cleanly) is replaced;
// anything else is refused. Throws std::runtime_error naming the path
// (escaped) and the reason.
void writeTokenFile(const std::string& path, const std::string& token);

}  // namespace qtopology::cli::dashboard
