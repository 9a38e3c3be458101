// One process of the reliability suite: a worker campaigning for leadership,
// a message sender or a message reader, each with its own MySqlCoordinator,
// as separate worker processes would be in a cluster.
//
//   stress_agent elect URL NAME ROUNDS SEED
//   stress_agent send  URL WORKER FIRST COUNT
//   stress_agent read  URL WORKER OUTFILE STOPFILE
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

namespace {

using namespace std::chrono_literals;
using qtopology::MySqlCoordinator;
using qtopology::MySqlOptions;

MySqlOptions optionsFor(const std::string& url) {
  auto options = MySqlOptions::fromUrl(url);
  options.pool_size = 1;
  options.retries = 50;  // contention is the point here: deadlocks are retried
  return options;
}

// Campaigns every round. A leader steps down now and then, and now and then
// stalls: stops pinging for longer than the leader timeout, as a hung process
// would, and must be replaced by another.
int elect(const std::string& url, const std::string& name, int rounds, unsigned seed) {
  // The test sets leader_timeout_s = 2: a stall of 3 s loses the seat.
  constexpr auto kStall = 3s;
  MySqlCoordinator storage(optionsFor(url));
  storage.registerWorker(name);
  std::mt19937 random(seed);
  int wins = 0, stalls = 0;
  for (int round = 0; round < rounds; ++round) {
    storage.pingWorker(name);
    storage.announceLeaderCandidacy(name);
    if (storage.checkLeaderCandidacy(name)) {
      ++wins;
      const auto dice = random() % 1000;
      if (dice < 3) {
        ++stalls;
        std::this_thread::sleep_for(kStall);
      } else if (dice < 50) {
        storage.setWorkerLStatus(name, qtopology::Leadership::normal);
      }
    }
    // Everyone paces its rounds alike, so all campaign for the whole run.
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + random() % 8000));
  }
  storage.setWorkerLStatus(name, qtopology::Leadership::normal);
  std::cout << "wins=" << wins << " stalls=" << stalls << std::endl;
  return 0;
}

// Every fifth message lives one second; the others ten minutes.
int send(const std::string& url, const std::string& worker, int first, int count) {
  MySqlCoordinator storage(optionsFor(url));
  for (int n = first; n < first + count; ++n) {
    const int life_ms = n % 5 == 0 ? 1000 : 600000;
    storage.sendMessageToWorker(worker, "work", {{"n", n}, {"life_ms", life_ms}},
                                std::chrono::milliseconds(life_ms));
  }
  return 0;
}

// Writes "n received_unix_ms created_unix_s life_ms" per message received.
int read(const std::string& url, const std::string& worker, const std::string& out_path,
         const std::string& stop_path) {
  MySqlCoordinator storage(optionsFor(url));
  std::ofstream out(out_path);
  int empty_after_stop = 0;
  for (unsigned i = 0; empty_after_stop < 3; ++i) {
    const bool stopping = std::filesystem::exists(stop_path);
    std::vector<qtopology::StorageMessage> batch;
    if (i % 2 == 0) {
      batch = storage.getMessages(worker);
    } else if (auto one = storage.getMessage(worker)) {
      batch.push_back(std::move(*one));
    }
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    for (const auto& m : batch) {
      out << m.content["n"].get<int>() << ' ' << now_ms << ' '
          << std::chrono::duration_cast<std::chrono::seconds>(m.created.time_since_epoch()).count()
          << ' ' << m.content["life_ms"].get<int>() << '\n';
    }
    if (batch.empty()) {
      empty_after_stop = stopping ? empty_after_stop + 1 : 0;
      std::this_thread::sleep_for(2ms);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "elect" && argc == 6)
      return elect(argv[2], argv[3], std::stoi(argv[4]),
                   static_cast<unsigned>(std::stoul(argv[5])));
    if (mode == "send" && argc == 6)
      return send(argv[2], argv[3], std::stoi(argv[4]), std::stoi(argv[5]));
    if (mode == "read" && argc == 6) return read(argv[2], argv[3], argv[4], argv[5]);
    std::cerr << "usage: stress_agent elect|send|read ...\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "stress_agent: " << e.what() << "\n";
    return 1;
  }
}
