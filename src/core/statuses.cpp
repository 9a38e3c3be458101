// The one table between the typed statuses and the text that storages, JSON
// and command lines carry.
#include <array>
#include <ostream>
#include <string>
#include <utility>

#include <qtopology/coordination_storage.hpp>

#include "printable.hpp"

namespace qtopology {
namespace {

template <typename Enum, std::size_t N>
using SpellingTable = std::array<std::pair<Enum, std::string_view>, N>;

constexpr SpellingTable<WorkerState, 5> kWorkerStates{{
    {WorkerState::alive, "alive"},
    {WorkerState::closing, "closing"},
    {WorkerState::dead, "dead"},
    {WorkerState::disabled, "disabled"},
    {WorkerState::unloaded, "unloaded"},
}};

constexpr SpellingTable<Leadership, 3> kLeaderships{{
    {Leadership::normal, "normal"},
    {Leadership::candidate, "candidate"},
    {Leadership::leader, "leader"},
}};

constexpr SpellingTable<TopologyState, 4> kTopologyStates{{
    {TopologyState::unassigned, "unassigned"},
    {TopologyState::waiting, "waiting"},
    {TopologyState::running, "running"},
    {TopologyState::error, "error"},
}};

// A value outside the enumerators (a cast from a bad integer) has no text;
// "" makes the storages' validation refuse it by name.
template <typename Enum, std::size_t N>
std::string_view spell(const SpellingTable<Enum, N>& table, Enum value) noexcept {
  for (const auto& [e, text] : table) {
    if (e == value) return text;
  }
  return {};
}

template <typename Enum, std::size_t N>
Enum parse(const SpellingTable<Enum, N>& table, std::string_view what, std::string_view text) {
  for (const auto& [e, spelling] : table) {
    if (spelling == text) return e;
  }
  std::string known;
  for (const auto& entry : table) known += (known.empty() ? "" : ", ") + std::string(entry.second);
  // The text may come from a peer or a command line: bounded and escaped.
  constexpr std::size_t kShown = 64;
  std::string shown = "'" + detail::escapeControl(text.substr(0, kShown)) + "'";
  if (text.size() > kShown) shown += "...";
  throw InvalidArgument("not a " + std::string(what) + ": " + shown + " (expected one of " + known +
                        ")");
}

}  // namespace

std::string_view toString(WorkerState state) noexcept { return spell(kWorkerStates, state); }
std::string_view toString(Leadership leadership) noexcept {
  return spell(kLeaderships, leadership);
}
std::string_view toString(TopologyState state) noexcept { return spell(kTopologyStates, state); }

WorkerState parseWorkerState(std::string_view text) {
  return parse(kWorkerStates, "worker status", text);
}

Leadership parseLeadership(std::string_view text) {
  if (text.empty()) return Leadership::normal;  // how peers older than lstatus "normal" wrote it
  return parse(kLeaderships, "leadership status", text);
}

TopologyState parseTopologyState(std::string_view text) {
  return parse(kTopologyStates, "topology status", text);
}

std::ostream& operator<<(std::ostream& out, WorkerState state) { return out << toString(state); }
std::ostream& operator<<(std::ostream& out, Leadership leadership) {
  return out << toString(leadership);
}
std::ostream& operator<<(std::ostream& out, TopologyState state) { return out << toString(state); }

}  // namespace qtopology
