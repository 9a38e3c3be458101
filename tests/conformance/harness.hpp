// What the conformance suite needs of a storage under test, beside the
// CoordinationStorage itself: a way to let time pass and to set the
// cluster's timeouts. Each storage has a harness class with this shape:
//
//   explicit Harness(const Timeouts&);  // a fresh, empty storage
//   CoordinationStorage& storage();
//   void advance(std::chrono::seconds);  // the storage's clock moves on
//   TimePoint now();                      // the storage's clock
//   static constexpr bool kDefaults;      // the storage is built on
//                                         // ComposedCoordinationStorage
//   static constexpr std::chrono::seconds kClockSlack;  // how far real time
//                                         // may move the storage's clock
//                                         // during a test (0: only advance)
//   bool writeForeign(const ForeignTopology&);  // a row as another writer
//                                         // leaves it (plain SQL); false
//                                         // when the storage has no other
//                                         // writer that could
#pragma once

#include <chrono>
#include <string>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::conformance {

// A topology row as another writer (plain SQL, a Node peer) may leave it:
// every field as text, none of them checked.
struct ForeignTopology {
  std::string uuid;
  std::string status = "unassigned";
  std::string config = "{}";
  std::string worker_affinity;
  double weight = 1.0;
  bool enabled = true;
  std::string worker;  // "" for none
};

struct Timeouts {
  std::chrono::seconds worker_dead{30};
  std::chrono::seconds leader{10};
  std::chrono::seconds waiting{30};
};

}  // namespace qtopology::conformance
