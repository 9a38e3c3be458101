#include "status_reports.hpp"

#include <algorithm>

#include "core/validation.hpp"

namespace qtopology::detail {

void StatusReports::report(const std::string& uuid, TopologyState status,
                           const std::optional<std::string>& error, std::int64_t epoch) {
  keepOrWrite(
      Report{uuid, status, error ? std::optional(fitErrorText(*error)) : std::nullopt, epoch, 0});
}

void StatusReports::reportPid(const std::string& uuid, int pid, std::int64_t epoch) {
  keepOrWrite(Report{uuid, std::nullopt, std::nullopt, epoch, pid});
}

// Kept reports are written in order, so nothing written now may overtake
// one of the same topology that waits.
void StatusReports::keepOrWrite(Report r) {
  if (pendingFor(r.uuid) || !write(r)) pending_.push_back(std::move(r));
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
  // A stale report is dropped by the storage: nothing to retry either.
  if (!r.status) {
    return context_.guarded("recording the pid", [&] {
      TopologyPidReport report;
      report.uuid = r.uuid;
      report.pid = r.pid;
      report.epoch = r.epoch;
      context_.storage.reportTopologyPid(report);
    });
  }
  return context_.guarded("reporting a topology status", [&] {
    TopologyReport report;
    report.uuid = r.uuid;
    report.worker = context_.name();
    report.status = *r.status;
    report.error = r.error;
    report.epoch = r.epoch;
    context_.storage.reportTopologyStatus(report);
  });
}

}  // namespace qtopology::detail
