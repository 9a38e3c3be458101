#include "leader_messages.hpp"

#include <map>

namespace qtopology::detail {

std::vector<LeaderMessage> leaderMessages(const LeaderActions& actions) {
  std::map<std::string, Json> starts;
  for (const auto& a : actions.assignments) starts[a.worker].push_back(a.uuid);
  std::map<std::string, Json> stops;
  for (const auto& m : actions.moves) {
    stops[m.worker_old].push_back(Json{{"uuid", m.uuid}, {"worker_new", m.worker_new}});
  }

  std::vector<LeaderMessage> out;
  out.reserve(starts.size() + stops.size());
  for (auto& [worker, uuids] : starts) {
    out.push_back({worker, std::string(consts::leader_messages::start_topologies),
                   Json{{"uuids", std::move(uuids)}}, actions.start_valid_for});
  }
  for (auto& [worker, list] : stops) {
    out.push_back({worker, std::string(consts::leader_messages::stop_topologies),
                   Json{{"stop_topologies", std::move(list)}}, actions.stop_valid_for});
  }
  return out;
}

}  // namespace qtopology::detail
