// The contract on MemoryStorage, and on the interface's default combined
// calls over it. No server: these run with the unit tests.
#include <qtopology/memory_storage.hpp>

#include "basic_calls_storage.hpp"
#include "storage_contract.hpp"

namespace qtopology::conformance {
namespace {

// Time passes only when a test says so.
class MemoryHarness {
 public:
  static constexpr bool kDefaults = false;
  static constexpr std::chrono::seconds kClockSlack{0};

  explicit MemoryHarness(const Timeouts& timeouts) : storage_(options(timeouts)) {}
  virtual ~MemoryHarness() = default;

  virtual CoordinationStorage& storage() { return storage_; }
  void advance(std::chrono::seconds by) { now_ += by; }
  TimePoint now() { return now_; }
  // Every write is checked: no writer can leave such a row here.
  bool writeForeign(const ForeignTopology&) { return false; }

 private:
  MemoryStorageOptions options(const Timeouts& timeouts) {
    MemoryStorageOptions o;
    o.clock = [this] { return now_; };
    o.worker_dead_timeout = timeouts.worker_dead;
    o.leader_timeout = timeouts.leader;
    o.waiting_timeout = timeouts.waiting;
    return o;
  }

  // Mid-second, as a real clock mostly is.
  TimePoint now_ =
      std::chrono::system_clock::from_time_t(1800000000) + std::chrono::milliseconds(400);
  MemoryStorage storage_;
};

class MemoryDefaultsHarness : public MemoryHarness {
 public:
  static constexpr bool kDefaults = true;

  using MemoryHarness::MemoryHarness;
  CoordinationStorage& storage() override { return basic_; }

 private:
  testing::BasicCallsStorage basic_{MemoryHarness::storage()};
};

// One instantiation per harness, so that the test names say which storage.
INSTANTIATE_TYPED_TEST_SUITE_P(MemoryStorage, StorageContract, ::testing::Types<MemoryHarness>);
INSTANTIATE_TYPED_TEST_SUITE_P(DefaultsOverMemoryStorage, StorageContract,
                               ::testing::Types<MemoryDefaultsHarness>);

}  // namespace
}  // namespace qtopology::conformance
