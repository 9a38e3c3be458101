// Test helper: constructs a MySqlCoordinator on the URL given (migrating the
// database), prints the schema version, exits 0; prints the error, exits 1.
// The migration tests start several of these at once.
#include <iostream>

#include <qtopology/mysql_coordinator.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: construct_coordinator URL\n";
    return 2;
  }
  try {
    qtopology::MySqlCoordinator coordinator(qtopology::MySqlOptions::fromUrl(argv[1]));
    std::cout << coordinator.schemaVersion() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
