#include "tracked_storage.hpp"

namespace qtopology::cli::dashboard {

std::string errorKind(const std::exception& e) {
  // Most derived first: every storage error is also a StorageError.
  if (dynamic_cast<const NotFoundError*>(&e)) return "NotFoundError";
  if (dynamic_cast<const InvalidArgument*>(&e)) return "InvalidArgument";
  if (dynamic_cast<const ConnectionError*>(&e)) return "ConnectionError";
  if (dynamic_cast<const SchemaError*>(&e)) return "SchemaError";
  if (dynamic_cast<const StorageError*>(&e)) return "StorageError";
  return "other";
}

CallCounts TrackedStorage::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void TrackedStorage::count(const std::string& call, const std::exception* failure) {
  std::lock_guard lock(mutex_);
  if (failure) {
    ++counts_.errors[{call, errorKind(*failure)}];
  } else {
    ++counts_.calls[call];
  }
}

}  // namespace qtopology::cli::dashboard
