// A user of qtopology::mysql, compiled against the installed headers: they
// need no Connector/C++ or spdlog header, and linking needs nothing but the
// exported target.
#include <iostream>

#include <qtopology/mysql_coordinator.hpp>

int main() {
  const auto options = qtopology::MySqlOptions::fromUrl("mysql://app@db.example:3307/cluster");
  const int latest = qtopology::MySqlCoordinator::latestSchemaVersion();
  std::cout << options.database << " " << options.port << " schema " << latest << "\n";
  return options.port == 3307 && latest > 17 ? 0 : 1;
}
