// The dashboard's one door to the storage: every call is counted by name, and
// every failure by name and exception class, for /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::cli::dashboard {

// "NotFoundError", "InvalidArgument", "ConnectionError", "SchemaError",
// "StorageError" or "other": the most derived class we know of.
std::string errorKind(const std::exception& e);

struct CallCounts {
  std::map<std::string, std::uint64_t> calls;                           // by call
  std::map<std::pair<std::string, std::string>, std::uint64_t> errors;  // by call, kind
};

// Thread-safe: the storage is, and the counters are guarded.
class TrackedStorage {
 public:
  explicit TrackedStorage(CoordinationStorage& storage) : storage_(storage) {}

  // Runs `work(storage)`, counting it as `call`; exceptions pass through.
  template <typename Work>
  decltype(auto) call(const std::string& call, Work&& work) {
    count(call, nullptr);
    try {
      return work(storage_);
    } catch (const std::exception& e) {
      count(call, &e);
      throw;
    }
  }

  CallCounts counts() const;

 private:
  void count(const std::string& call, const std::exception* failure);

  CoordinationStorage& storage_;
  mutable std::mutex mutex_;
  CallCounts counts_;
};

}  // namespace qtopology::cli::dashboard
