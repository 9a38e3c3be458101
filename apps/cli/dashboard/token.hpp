// The dashboard's access token: made at start unless the operator gave one,
// and left where only its user can read it.
#pragma once

#include <string>

namespace qtopology::cli::dashboard {

// 256 random bits from the kernel (getrandom), as 64 hex digits. Throws
// std::runtime_error when the kernel gives none.
std::string generateToken();

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
