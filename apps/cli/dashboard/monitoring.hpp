// What qtopology's dashboard lacks: a health check and Prometheus metrics.
#pragma once

#include <string>

#include <qtopology/coordination_storage.hpp>

#include "tracked_storage.hpp"

namespace qtopology::cli::dashboard {

struct Health {
  int http_status;  // 200 when the storage answers at this build's schema, else 503
  Json body;
};

// Storage reachable, schema version (the "schema_version" property) equal to
// `expected_schema_version`, leader present. Never throws for a
// storage failure: that is what it reports.
Health checkHealth(TrackedStorage& storage, int expected_schema_version);

// Prometheus text exposition (version 0.0.4): workers and topologies per
// status, the leader's heartbeat age, queued messages, and the dashboard's
// storage calls and errors by kind. When the storage cannot be read,
// qtopology_storage_up is 0 and only the counters follow.
std::string prometheusMetrics(TrackedStorage& storage);

// A label value as the exposition format writes it: \, " and newline escaped.
std::string escapeLabelValue(const std::string& value);

}  // namespace qtopology::cli::dashboard
