#include "validation.hpp"

#include <cmath>
#include <cstdio>

namespace qtopology::detail {
namespace {

constexpr std::size_t kMaxIdentifier = 100;       // varchar(100)
constexpr std::size_t kMaxErrorText = 1000;       // varchar(1000)
constexpr std::size_t kMaxAffinity = 200;         // varchar(200)
constexpr std::size_t kMaxMediumText = 16777215;  // mediumtext, in bytes

[[noreturn]] void reject(std::string_view operation, const std::string& why) {
  throw InvalidArgument(std::string(operation) + ": " + why);
}

}  // namespace

std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t extra;
  char32_t cp;
  if (c < 0x80) {
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    extra = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i <= extra) return 0;  // truncated sequence
  for (std::size_t k = 1; k <= extra; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr char32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return extra + 1;
}

namespace {

// Counts code points; nullopt when the bytes are not valid UTF-8.
std::optional<std::size_t> utf8Length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    const auto length = utf8SequenceLength(s, i);
    if (length == 0) return std::nullopt;
    i += length;
  }
  return count;
}

}  // namespace

std::string quotedMasked(std::string_view s) { return "'" + masked(s, 40) + "'"; }

std::string masked(std::string_view s, std::size_t max_bytes) {
  const auto shown = s.substr(0, max_bytes);
  std::string out;
  for (std::size_t i = 0; i < shown.size();) {
    const auto length = utf8SequenceLength(shown, i);
    const auto u = static_cast<unsigned char>(shown[i]);
    // C1 controls (U+0080-U+009F) act on terminals as C0 ones do.
    const bool control =
        length == 1 ? (u < 0x20 || u == 0x7F)
                    : length == 2 && u == 0xC2 && static_cast<unsigned char>(shown[i + 1]) < 0xA0;
    if (length == 0 || control) {
      out += '?';
      i += length == 0 ? 1 : length;
    } else {
      out.append(shown, i, length);
      i += length;
    }
  }
  if (s.size() > max_bytes) out += "...";
  return out;
}

namespace {

std::optional<std::string> textProblem(std::string_view what, std::string_view value,
                                       std::size_t max_chars) {
  const auto length = utf8Length(value);
  if (!length) return std::string(what) + " is not valid UTF-8";
  if (*length > max_chars) {
    return std::string(what) + " is " + std::to_string(*length) + " characters long; at most " +
           std::to_string(max_chars) + " are allowed";
  }
  return std::nullopt;
}

void checkText(std::string_view operation, std::string_view what, std::string_view value,
               std::size_t max_chars) {
  if (auto problem = textProblem(what, value, max_chars)) reject(operation, *problem);
}

}  // namespace

std::string operationName(std::string_view method, std::string_view key, const std::string& value) {
  constexpr std::size_t kShown = 100;
  std::string shown = value.substr(0, kShown);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  if (value.size() > kShown) shown += "...";
  return std::string(method) + "(" + std::string(key) + "=" + shown + ")";
}

std::string checkedOperation(std::string_view method, std::string_view key,
                             const std::string& value) {
  auto op = operationName(method, key, value);
  checkIdentifier(op, key, value);
  return op;
}

std::string fitErrorText(std::string_view text) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size() && chars < kMaxErrorText; ++chars) {
    const auto length = utf8SequenceLength(text, i);
    const auto c = static_cast<unsigned char>(text[i]);
    if (length == 0 || (length == 1 && (c < 0x20 || c == 0x7F) && c != '\n' && c != '\t')) {
      out += '?';
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

std::optional<std::string> identifierProblem(std::string_view what, const std::string& value) {
  if (value.empty()) return std::string(what) + " is empty";
  if (auto problem = textProblem(what, value, kMaxIdentifier)) return problem;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return std::string(what) + " " + quotedMasked(value) + " contains a control character";
    }
  }
  return std::nullopt;
}

void checkIdentifier(std::string_view operation, std::string_view what, const std::string& value) {
  if (auto problem = identifierProblem(what, value)) reject(operation, *problem);
}

std::optional<std::string> topologyRowProblem(const TopologyStatus& t) {
  if (auto problem = identifierProblem("uuid", t.uuid)) return problem;
  if (t.worker) {
    if (auto problem = identifierProblem("worker", *t.worker)) return problem;
  }
  if (toString(t.status).empty()) {
    return "unknown topology status " + std::to_string(static_cast<long long>(t.status));
  }
  if (!std::isfinite(t.weight) || t.weight <= 0) {
    char weight[32];
    std::snprintf(weight, sizeof weight, "%g", t.weight);
    return std::string("weight must be a positive number, not ") + weight;
  }
  for (const auto& name : t.worker_affinity) {
    if (auto problem = identifierProblem("worker in worker_affinity", name)) return problem;
    if (name.find(',') != std::string::npos) {
      return std::string("worker names in worker_affinity cannot contain ','");
    }
  }
  return std::nullopt;
}

// A typed status can still hold a value outside its enumerators (a cast
// from a bad integer): it has no spelling, and is refused by number.
template <typename Enum>
void checkKnown(std::string_view operation, std::string_view what, Enum value) {
  if (!toString(value).empty()) return;
  reject(operation,
         "unknown " + std::string(what) + " " + std::to_string(static_cast<long long>(value)));
}

void checkWorkerStatus(std::string_view operation, WorkerState status) {
  checkKnown(operation, "worker status", status);
}

void checkLeadershipStatus(std::string_view operation, Leadership lstatus) {
  checkKnown(operation, "leadership status", lstatus);
}

void checkTopologyStatus(std::string_view operation, TopologyState status) {
  checkKnown(operation, "topology status", status);
}

void checkErrorText(std::string_view operation, const std::optional<std::string>& error) {
  if (error) checkText(operation, "error text", *error, kMaxErrorText);
}

void checkCommand(std::string_view operation, const std::string& cmd) {
  if (cmd.empty()) reject(operation, "message command is empty");
  checkText(operation, "message command", cmd, kMaxIdentifier);
}

std::string checkedTopologyStatusCall(const std::string& uuid,
                                      const std::optional<std::string>& worker,
                                      TopologyState status,
                                      const std::optional<std::string>& error) {
  auto op = checkedOperation("setTopologyStatus", "uuid", uuid);
  if (worker) checkIdentifier(op, "worker", *worker);
  checkTopologyStatus(op, status);
  checkErrorText(op, error);
  return op;
}

void checkLeaderActions(std::string_view operation, const LeaderActions& actions) {
  for (const auto& worker : actions.unload_workers) {
    checkIdentifier(operation, "worker in unload_workers", worker);
  }
  for (const auto& uuid : actions.unassign_topologies) {
    checkIdentifier(operation, "uuid in unassign_topologies", uuid);
  }
  for (const auto& a : actions.assignments) {
    checkIdentifier(operation, "uuid in assignments", a.uuid);
    checkIdentifier(operation, "worker in assignments", a.worker);
  }
  for (const auto& m : actions.moves) {
    checkIdentifier(operation, "uuid in moves", m.uuid);
    checkIdentifier(operation, "worker_old in moves", m.worker_old);
    checkIdentifier(operation, "worker_new in moves", m.worker_new);
  }
  for (const auto validity : {actions.start_valid_for, actions.stop_valid_for}) {
    if (validity.count() <= 0) {
      reject(operation, "start_valid_for and stop_valid_for must be positive, got " +
                            std::to_string(validity.count()) + " ms");
    }
  }
}

void checkLeaderActionsExist(std::string_view operation, const LeaderActions& actions,
                             const std::function<bool(const std::string&)>& worker_exists,
                             const std::function<bool(const std::string&)>& topology_exists) {
  const auto missing = [&](std::string_view what, const std::string& key) {
    throw NotFoundError(std::string(operation) + ": " + std::string(what) + " not found: " + key);
  };
  for (const auto& worker : actions.unload_workers) {
    if (!worker_exists(worker)) missing("worker", worker);
  }
  for (const auto& a : actions.assignments) {
    if (!worker_exists(a.worker)) missing("worker", a.worker);
  }
  for (const auto& m : actions.moves) {
    if (!worker_exists(m.worker_old)) missing("worker", m.worker_old);
  }
  for (const auto& uuid : actions.unassign_topologies) {
    if (!topology_exists(uuid)) missing("topology", uuid);
  }
  for (const auto& a : actions.assignments) {
    if (!topology_exists(a.uuid)) missing("topology", a.uuid);
  }
}

std::string serializeContent(std::string_view operation, const Json& content) {
  std::string text;
  try {
    text = content.dump();  // strict: throws on invalid UTF-8 in strings
  } catch (const Json::exception& e) {
    reject(operation, std::string("content cannot be serialised: ") + e.what());
  }
  if (text.size() > kMaxMediumText) {
    reject(operation, "content is " + std::to_string(text.size()) + " bytes; at most " +
                          std::to_string(kMaxMediumText) + " fit");
  }
  return text;
}

TopologyColumns topologyColumns(std::string_view operation, const Json& config) {
  if (!config.is_object()) {
    reject(operation, std::string("config must be a JSON object, not ") + config.type_name());
  }
  TopologyColumns columns;
  const auto general = config.find("general");
  if (general != config.end() && !general->is_null()) {
    if (!general->is_object()) reject(operation, "config.general must be an object");
    if (const auto weight = general->find("weight"); weight != general->end()) {
      if (!weight->is_number() || !std::isfinite(weight->get<double>()) ||
          weight->get<double>() <= 0) {
        reject(operation, "config.general.weight must be a positive number, not " + weight->dump());
      }
      columns.weight = weight->get<double>();
    }
    if (const auto affinity = general->find("worker_affinity"); affinity != general->end()) {
      if (!affinity->is_array())
        reject(operation, "config.general.worker_affinity must be an array");
      for (const auto& name : *affinity) {
        if (!name.is_string())
          reject(operation, "config.general.worker_affinity holds a non-string");
        const auto& text = name.get_ref<const std::string&>();
        checkIdentifier(operation, "worker in config.general.worker_affinity", text);
        if (text.find(',') != std::string::npos) {
          reject(operation, "worker names in config.general.worker_affinity cannot contain ','");
        }
        if (!columns.worker_affinity.empty()) columns.worker_affinity += ',';
        columns.worker_affinity += text;
      }
      checkText(operation, "config.general.worker_affinity joined with ','",
                columns.worker_affinity, kMaxAffinity);
    }
  }
  columns.config = serializeContent(operation, config);
  return columns;
}

std::vector<std::string> splitAffinity(std::string_view column) {
  std::vector<std::string> names;
  while (!column.empty()) {
    const auto comma = column.find(',');
    const auto name = column.substr(0, comma);
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    column.remove_prefix(comma + 1);
  }
  return names;
}

}  // namespace qtopology::detail
