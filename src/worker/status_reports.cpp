#include "status_reports.hpp"

#include <algorithm>

#include "core/validation.hpp"

namespace qtopology::detail {

void StatusReports::report(const std::string& uuid, std::string_view status,
                           const std::optional<std::string>& error, std::int64_t epoch) {
  Report r{uuid, std::string(status), error ? std::optional(fitErrorText(*error)) : std::nullopt,
           epoch};
  if (!write(r)) pending_.push_back(std::move(r));
}

void StatusReports::retry() {
  auto todo = std::move(pending_);
  pending_.clear();
  for (auto& r : todo) {
    if (!write(r)) pending_.push_back(std::move(r));
  }
}

void StatusReports::drop(const std::string& uuid) {
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                [&](const Report& r) { return r.uuid == uuid; }),
                 pending_.end());
}

bool StatusReports::pendingFor(const std::string& uuid) const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [&](const Report& r) { return r.uuid == uuid; });
}

bool StatusReports::write(const Report& r) {
  return context_.guarded("reporting a topology status", [&] {
    // A stale report is dropped by the storage: nothing to retry either.
    context_.storage.reportTopologyStatus(r.uuid, context_.name(), r.status, r.error, r.epoch);
  });
}

}  // namespace qtopology::detail
