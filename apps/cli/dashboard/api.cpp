#include "api.hpp"

#include <chrono>
#include <cstdint>

#include <qtopology/bounded_json.hpp>
#include <qtopology/text.hpp>

#include "../output.hpp"
#include "../settings_view.hpp"
#include "json_type.hpp"
#include "topology_config.hpp"

namespace qtopology::cli::dashboard {
namespace {

using std::chrono::milliseconds;

// A body is one call's arguments, a topology's config at most: a config
// nests a few levels, and even a large one holds far fewer values.
constexpr JsonLimits kBodyLimits{64, 100000};

// --- request fields -----------------------------------------------------------

std::string requiredText(const Json& body, const char* field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    throw RequestError(400, std::string("missing field '") + field + "' (a non-empty string)");
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw RequestError(400, std::string("field '") + field + "' must be a non-empty string, not " +
                                (it->is_string() ? "an empty one" : apps::typeWithArticle(*it)));
  }
  return it->get<std::string>();
}

// Upstream's optional "valid_msec" of the worker messages, 60 s by default.
milliseconds validity(const Json& body) {
  const auto it = body.find("valid_msec");
  if (it == body.end() || it->is_null()) return milliseconds(60 * 1000);
  if (!it->is_number_integer() || it->get<long long>() <= 0) {
    throw RequestError(400, "field 'valid_msec' must be a positive whole number of milliseconds");
  }
  return milliseconds(it->get<long long>());
}

// --- response shapes ----------------------------------------------------------
// Those of Node qtopology over qtopology-mysql: worker pings in epoch
// milliseconds with an ISO twin (last_ping_d), topology pings as ISO text,
// history timestamps as ISO text.

long long epochMs(TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

template <typename T>
Json orNull(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json topologyFields(const TopologyStatus& t) {
  if (t.invalid) {
    // Another writer's row: its text may hold anything (control characters,
    // bytes JSON cannot carry), so every text goes out escaped.
    const auto escaped = [](const std::optional<std::string>& text) {
      return text ? Json(escapeControl(*text)) : Json(nullptr);
    };
    Json affinity = Json::array();
    for (const auto& name : t.worker_affinity) affinity.push_back(escapeControl(name));
    return {{"uuid", escapeControl(t.uuid)},
            {"status", t.status},
            {"worker", escaped(t.worker)},
            {"weight", t.weight},
            {"worker_affinity", std::move(affinity)},
            {"enabled", t.enabled},
            {"error", escaped(t.error)},
            {"pid", orNull(t.pid)},
            {"invalid", escapeControl(*t.invalid)}};
  }
  return {{"uuid", t.uuid},
          {"status", t.status},
          {"worker", orNull(t.worker)},
          {"weight", t.weight},
          {"worker_affinity", t.worker_affinity},
          {"enabled", t.enabled},
          {"error", orNull(t.error)},
          {"pid", orNull(t.pid)},
          {"invalid", nullptr}};
}

Json workerStatus(TrackedStorage& s, const Json&) {
  Json all = Json::array();
  for (const auto& w : s.call("getWorkerStatus", [](auto& st) { return st.getWorkerStatus(); })) {
    all.push_back({{"name", w.name},
                   {"status", w.status},
                   {"lstatus", w.lstatus},
                   {"last_ping", epochMs(w.last_ping)},
                   {"last_ping_d", utcTime(w.last_ping)},
                   {"pid", orNull(w.pid)}});
  }
  return all;
}

Json topologyStatus(TrackedStorage& s, const Json&) {
  Json all = Json::array();
  for (const auto& t :
       s.call("getTopologyStatus", [](auto& st) { return st.getTopologyStatus(); })) {
    Json j = topologyFields(t);
    j["last_ping"] = utcTime(t.last_ping);
    all.push_back(std::move(j));
  }
  return all;
}

Json topologyInfo(TrackedStorage& s, const Json& body) {
  const auto uuid = requiredText(body, "uuid");
  const auto t = s.call("getTopologyInfo", [&](auto& st) { return st.getTopologyInfo(uuid); });
  Json j = topologyFields(t);
  j["last_ping"] = epochMs(t.last_ping);
  j["last_ping_d"] = utcTime(t.last_ping);
  j["config"] = t.config;
  return j;
}

Json topologyHistory(TrackedStorage& s, const Json& body) {
  const auto uuid = requiredText(body, "uuid");
  Json all = Json::array();
  for (const auto& h :
       s.call("getTopologyHistory", [&](auto& st) { return st.getTopologyHistory(uuid); })) {
    Json j = topologyFields(h);
    j["ts"] = utcTime(h.ts);
    j["last_ping"] = epochMs(h.last_ping);
    j["last_ping_d"] = utcTime(h.last_ping);
    all.push_back(std::move(j));
  }
  return all;
}

Json workerHistory(TrackedStorage& s, const Json& body) {
  const auto name = requiredText(body, "name");
  Json all = Json::array();
  for (const auto& h :
       s.call("getWorkerHistory", [&](auto& st) { return st.getWorkerHistory(name); })) {
    all.push_back({{"ts", utcTime(h.ts)},
                   {"name", h.name},
                   {"status", h.status},
                   {"lstatus", h.lstatus},
                   {"pid", orNull(h.pid)}});
  }
  return all;
}

Json msgQueueContent(TrackedStorage& s, const Json&) {
  Json all = Json::array();
  for (const auto& m :
       s.call("getMsgQueueContent", [](auto& st) { return st.getMsgQueueContent(); })) {
    all.push_back({{"cmd", m.cmd},
                   {"content", m.data},
                   {"ts", epochMs(m.created)},
                   {"valid_until", epochMs(m.valid_until)},
                   {"worker", m.name}});
  }
  return {{"data", all}};
}

Json storageInfo(TrackedStorage& s, const Json&) {
  // The coordinator's properties never include the password.
  Json storage = Json::array();
  for (const auto& p : s.call("getProperties", [](auto& st) { return st.getProperties(); })) {
    storage.push_back({{"key", p.key}, {"value", p.value}});
  }
  return {{"custom", Json::array()}, {"storage", storage}};
}

Json displayData(TrackedStorage&, const Json&) {
  return {{"back_title", nullptr}, {"back_url", nullptr}, {"title", nullptr}};
}

Json registerTopology(TrackedStorage& s, const Json& body) {
  const auto uuid = requiredText(body, "uuid");
  const auto config = body.find("config");
  if (config == body.end() || !config->is_object()) {
    throw RequestError(400, "field 'config' must be the topology's configuration, a JSON object");
  }
  // As the CLI's register --format: "auto" (the default) or "raw".
  auto format = apps::RegisterFormat::kAuto;
  if (const auto it = body.find("format"); it != body.end() && !it->is_null()) {
    const auto named =
        it->is_string() ? apps::registerFormatNamed(it->get<std::string>()) : std::nullopt;
    if (!named) {
      throw RequestError(400,
                         "field 'format' must be \"auto\" (a command or a Node topology) or "
                         "\"raw\" (any JSON object), not " + apps::typeWithArticle(*it));
    }
    format = *named;
  }
  // The CLI's register checks the same way, with the same function; an
  // answer names the refused values by their type only.
  try {
    apps::validateTopologyConfig(*config, format, false);
  } catch (const apps::InvalidTopology& e) {
    throw RequestError(400, std::string("field 'config': ") + e.what());
  }
  s.call("registerTopology", [&](auto& st) { st.registerTopology(uuid, *config); });
  return Json::object();
}

// The topology actions: one uuid, one storage call, an empty answer.
template <void (CoordinationStorage::*action)(const std::string&)>
Json onTopology(TrackedStorage& s, const Json& body, const char* call) {
  const auto uuid = requiredText(body, "uuid");
  s.call(call, [&](auto& st) { (st.*action)(uuid); });
  return Json::object();
}

Json enableTopology(TrackedStorage& s, const Json& b) {
  return onTopology<&CoordinationStorage::enableTopology>(s, b, "enableTopology");
}
Json disableTopology(TrackedStorage& s, const Json& b) {
  return onTopology<&CoordinationStorage::disableTopology>(s, b, "disableTopology");
}
Json stopTopology(TrackedStorage& s, const Json& b) {
  return onTopology<&CoordinationStorage::stopTopology>(s, b, "stopTopology");
}
Json killTopology(TrackedStorage& s, const Json& b) {
  return onTopology<&CoordinationStorage::killTopology>(s, b, "killTopology");
}
Json clearTopologyError(TrackedStorage& s, const Json& b) {
  // As upstream's dashboard: back on its last worker when that is alive.
  const auto uuid = requiredText(b, "uuid");
  s.call("clearTopologyErrorToLastWorker",
         [&](auto& st) { st.clearTopologyErrorToLastWorker(uuid); });
  return Json::object();
}

Json deleteWorker(TrackedStorage& s, const Json& body) {
  const auto name = requiredText(body, "name");
  s.call("deleteWorker", [&](auto& st) { st.deleteWorker(name); });
  return Json::object();
}

// As upstream: these queue one message for the named worker ({} content).
template <const std::string_view* command>
Json toWorker(TrackedStorage& s, const Json& body) {
  const auto name = requiredText(body, "name");
  const auto valid_for = validity(body);
  s.call("sendMessageToWorker", [&](auto& st) {
    st.sendMessageToWorker(name, std::string(*command), Json::object(), valid_for);
  });
  return Json::object();
}

constexpr std::string_view kShutdown = consts::leader_messages::shutdown;
constexpr std::string_view kSetEnabled = consts::leader_messages::set_enabled;
constexpr std::string_view kSetDisabled = consts::leader_messages::set_disabled;
constexpr std::string_view kRebalance = consts::leader_messages::rebalance;

// The cluster's settings (ours, not upstream's): the list as the CLI's
// `settings --json` prints it, and one set, checked against its range.
Json clusterSettings(TrackedStorage& s, const Json&) {
  return settingsJson(s.call("getSettings", [](auto& st) { return st.getSettings(); }));
}

Json setClusterSetting(TrackedStorage& s, const Json& body) {
  const auto name = requiredText(body, "name");
  const auto value = body.find("value");
  if (value == body.end() || !value->is_number_integer()) {
    throw RequestError(400, "field 'value' must be a whole number of seconds");
  }
  // A value beyond int64 arrives as an unsigned number: out of any range.
  const auto seconds = value->is_number_unsigned() && value->get<std::uint64_t>() > INT64_MAX
                           ? INT64_MAX
                           : value->get<std::int64_t>();
  s.call("setSetting", [&](auto& st) { st.setSetting(name, seconds); });
  return Json::object();
}

constexpr ApiRoute kRoutes[] = {
    {"worker-status", false, workerStatus},
    {"topology-status", false, topologyStatus},
    {"topology-info", false, topologyInfo},
    {"topology-history", false, topologyHistory},
    {"worker-history", false, workerHistory},
    {"msg-queue-content", false, msgQueueContent},
    {"storage-info", false, storageInfo},
    {"display-data", false, displayData},
    {"register-topology", true, registerTopology},
    {"enable-topology", true, enableTopology},
    {"disable-topology", true, disableTopology},
    {"stop-topology", true, stopTopology},
    {"kill-topology", true, killTopology},
    {"clear-topology-error", true, clearTopologyError},
    {"delete-worker", true, deleteWorker},
    {"shut-down-worker", true, toWorker<&kShutdown>},
    {"enable-worker", true, toWorker<&kSetEnabled>},
    {"disable-worker", true, toWorker<&kSetDisabled>},
    {"rebalance-leader", true, toWorker<&kRebalance>},
    {"settings", false, clusterSettings},
    {"set-setting", true, setClusterSetting},
};

}  // namespace

const ApiRoute* findApiRoute(std::string_view name) {
  for (const auto& route : kRoutes) {
    if (route.name == name) return &route;
  }
  return nullptr;
}

Json parseBody(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json body;
  try {
    body = parseBoundedJson(text, kBodyLimits);
  } catch (const JsonInputError& e) {
    if (e.overLimit()) throw RequestError(413, std::string("the request body is ") + e.what());
    throw RequestError(400, "the request body is not valid JSON: " + std::string(e.what()) +
                                " (at byte " + std::to_string(e.byte()) + ")");
  }
  if (!body.is_object()) {
    throw RequestError(
        400, "the request body must be a JSON object, not " + apps::typeWithArticle(body));
  }
  return body;
}

}  // namespace qtopology::cli::dashboard
