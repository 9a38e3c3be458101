// The messages a leader loop's actions send, in the shape Node qtopology's
// workers expect: one start_topologies {"uuids": [...]} per worker given
// topologies, one stop_topologies {"stop_topologies": [{"uuid", "worker_new"}]}
// per worker losing them. Every storage sends these same messages.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::detail {

struct LeaderMessage {
  std::string worker;
  std::string cmd;
  Json content;
  std::chrono::milliseconds valid_for;
};

// Starts first, then stops; within each, workers by name and topologies in the
// order the actions list them.
std::vector<LeaderMessage> leaderMessages(const LeaderActions& actions);

}  // namespace qtopology::detail
