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
#pragma once

#include <chrono>
#include <string>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::conformance {

struct Timeouts {
  std::chrono::seconds worker_dead{30};
  std::chrono::seconds leader{10};
  std::chrono::seconds waiting{30};
};

}  // namespace qtopology::conformance
