#include "process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <qtopology/text.hpp>
#include "child_environment.hpp"
#include "log_rate_limit.hpp"
#include "node_channel.hpp"
#include "node_child.hpp"
#include "process_tree.hpp"
#include "spawn.hpp"
#include "supervisor_protocol.hpp"
#include "topology_config.hpp"

namespace qtopology::worker {
namespace {

namespace sv = supervision;
namespace ipc = node_ipc;
using SteadyClock = std::chrono::steady_clock;

// The runner's lines go to the logger its options name, formatted only when
// that logger keeps the level.
template <typename... Args>
void logTo(Logger& logger, LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (!logger.enabled(level)) return;
  logger.log(level, fmt::format(format, std::forward<Args>(args)...));
}

// How long start() waits for the supervisor to start the topology: a fork
// and an exec, even on a loaded machine far less.
constexpr auto kStartTimeout = std::chrono::seconds(10);
// A flooding child is read at most this much per round, so that its
// siblings' stderr and exit reports are not starved.
constexpr std::size_t kReadPerRound = 256 * 1024;

// The error column holds 1000 characters: the whole text fits in it.
constexpr std::size_t kMaxErrorChars = 1000;
// More stderr than fits, so the last lines can be cut at a line start.
constexpr std::size_t kStderrKept = 4 * kMaxErrorChars;
constexpr auto kReaperPoll = std::chrono::milliseconds(100);

std::string systemError(const std::string& what, int error_number) {
  return what + ": " + std::strerror(error_number);
}

// The file of a program as execvp would find it, looked up here because
// execvp is not async-signal-safe, and so that "not found" is a clear error
// rather than an exit code 127. A path is left to the exec to refuse.
std::string resolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  std::string found = findProgram(program);
  if (found.empty()) {
    throw std::runtime_error("general.command[0]: program '" + program + "' not found in PATH");
  }
  return found;
}

std::string writeConfigFile(const std::string& uuid, const Json& config) {
  const char* tmp = std::getenv("TMPDIR");
  std::string safe_uuid;
  for (char c : uuid) safe_uuid += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/qtopology-" +
                     safe_uuid.substr(0, 64) + "-XXXXXX.json";
  const int fd = ::mkstemps(path.data(), 5);
  if (fd < 0) throw std::runtime_error(systemError("cannot create " + path, errno));
  const std::string text = config.dump();
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error_number = errno;
      ::close(fd);
      std::remove(path.c_str());
      throw std::runtime_error(systemError("cannot write " + path, error_number));
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return path;
}

// Closes the descriptors it owns, whichever way a step leaves.
struct Descriptors {
  std::vector<int> fds;
  ~Descriptors() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  int own(int fd) {
    if (fd >= 0) fds.push_back(fd);
    return fd;
  }
  // No longer ours to close.
  int release(int fd) {
    for (int& owned : fds) {
      if (owned == fd) owned = -1;
    }
    return fd;
  }
};

std::string supervisorBesideExecutable() {
  char self[4096];
  const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw std::runtime_error(systemError("cannot read /proc/self/exe", errno));
  std::string path(self, static_cast<std::size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "qtopology-supervisor";
}

// One message on the socket, whole or not at all (the supervisor's socket
// buffer holds far more than a few messages unless it hangs).
bool sendMessage(int fd, const std::string& bytes, bool wait) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent,
                          MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string leaseMessage(SteadyClock::time_point deadline) {
  sv::Writer w;
  w.i64(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
  return w.message(sv::Type::Lease);
}

// Exactly `size` bytes from a blocking socket by `deadline`; false when it
// closed or the time ran out. Exactly: what follows is the reaper's.
bool receiveExactly(int fd, char* out, std::size_t size, SteadyClock::time_point deadline) {
  std::size_t got = 0;
  while (got < size) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() < 0) return false;
    pollfd polled{fd, POLLIN, 0};
    if (::poll(&polled, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    const auto n = ::recv(fd, out + got, size - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// The supervisor's first answer within `timeout`: Started or Failed, each
// with one int32.
std::optional<std::pair<sv::Type, std::string>> firstAnswer(int fd,
                                                            std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  char header[sv::kHeaderSize];
  if (!receiveExactly(fd, header, sizeof header, deadline)) return std::nullopt;
  std::uint32_t size;
  std::memcpy(&size, header + 1, sizeof size);
  if (size != sizeof(std::int32_t)) return std::nullopt;
  std::string payload(size, '\0');
  if (!receiveExactly(fd, payload.data(), size, deadline)) return std::nullopt;
  return std::make_pair(static_cast<sv::Type>(header[0]), payload);
}

std::string signalName(int signal_number) {
  const char* abbreviation = ::sigabbrev_np(signal_number);
  return abbreviation ? std::string("SIG") + abbreviation
                      : "signal " + std::to_string(signal_number);
}

// The end of `text` in at most `limit` bytes, lines joined by " | " so that
// the text stays one line in tables; it starts at a line when it can, and
// never inside a UTF-8 character.
std::string lastLines(const std::string& text, std::size_t limit) {
  constexpr std::string_view kSeparator = " | ";
  std::string joined;
  for (char c : text) {
    if (c == '\n') {
      joined += kSeparator;
    } else if (c != '\r') {
      joined += c;
    }
  }
  while (joined.size() >= kSeparator.size() &&
         joined.compare(joined.size() - kSeparator.size(), kSeparator.size(), kSeparator) == 0) {
    joined.resize(joined.size() - kSeparator.size());
  }
  if (joined.size() <= limit) return joined;
  std::size_t begin = joined.size() - limit;
  if (const auto line = joined.find(kSeparator, begin); line != std::string::npos) {
    return joined.substr(line + kSeparator.size());
  }
  while (begin < joined.size() && (static_cast<unsigned char>(joined[begin]) & 0xC0) == 0x80) {
    ++begin;
  }
  return joined.substr(begin);
}

std::string failureText(int status, const std::string& stderr_tail) {
  std::string what = WIFEXITED(status) ? "exited with code " + std::to_string(WEXITSTATUS(status))
                                       : "killed by " + signalName(WTERMSIG(status));
  const std::string prefix = what + "; stderr: ";
  // Counted in bytes, so the text fits the column in characters too.
  const std::string tail = lastLines(stderr_tail, kMaxErrorChars - prefix.size());
  return tail.empty() ? what + " (nothing on stderr)" : prefix + tail;
}

std::string exitCauseText(sv::Cause cause, pid_t supervisor) {
  switch (cause) {
    case sv::Cause::LeaseLapsed:
      return "killed by its supervisor: the worker's lease ran out (no successful heartbeat in "
             "time)";
    case sv::Cause::WorkerGone:
      return "killed by its supervisor: it lost its worker";
    case sv::Cause::Signalled:
      return "stopped: its supervisor (pid " + std::to_string(supervisor) + ") was sent a signal";
    default:
      return "";
  }
}

}  // namespace

// One of a topology's output pipes, logged line by line: each line escaped
// (no terminal control reaches the log), prefixed with "[UUID stdout] " or
// "[UUID stderr] " (the worker's own lines never start with "["), within a
// rate limit of its own.
struct OutputPipe {
  const char* name;
  Logger& log;               // the runner's
  std::string* const tail;   // where the last bytes are kept, if anywhere
  const std::size_t rate;    // of `limit`, for the report of what it dropped
  int fd = -1;               // -1 once the pipe reached its end
  std::string partial_line;  // since the last newline, not logged yet
  LogRateLimit limit;

  OutputPipe(const char* pipe_name, Logger& logger, std::string* kept_tail,
             std::size_t bytes_per_second, std::size_t burst)
      : name(pipe_name),
        log(logger),
        tail(kept_tail),
        rate(bytes_per_second),
        limit(bytes_per_second, burst, SteadyClock::now()) {}
  ~OutputPipe() {
    if (fd >= 0) ::close(fd);
  }

  void logLine(const std::string& uuid, std::string_view line, SteadyClock::time_point now) {
    if (limit.admit(line.size(), now)) {
      logTo(log, LogLevel::info, "[{} {}] {}", uuid, name, escapeControl(line));
    }
  }

  void reportDropped(const std::string& uuid, SteadyClock::time_point now, bool final) {
    if (const auto dropped = limit.report(now, final)) {
      logTo(log, LogLevel::warn,
            "topology {}: {} lines ({} bytes) of {} not logged: over the limit of {} bytes/s", uuid,
            dropped->lines, dropped->bytes, name, rate);
    }
  }

  // At most kReadPerRound bytes unless `all` (the tree is gone: what is
  // left in the pipe is all there will be).
  void read(const std::string& uuid, bool all) {
    char buffer[65536];
    std::size_t taken = 0;
    while (fd >= 0 && (all || taken < kReadPerRound)) {
      const auto n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;  // EAGAIN: nothing more for now
      if (n == 0) {
        ::close(fd);
        fd = -1;
        break;
      }
      taken += static_cast<std::size_t>(n);
      const auto now = SteadyClock::now();
      if (tail) {
        tail->append(buffer, static_cast<std::size_t>(n));
        if (tail->size() > kStderrKept) tail->erase(0, tail->size() - kStderrKept);
      }
      partial_line.append(buffer, static_cast<std::size_t>(n));
      std::size_t begin = 0;
      std::size_t newline;
      while ((newline = partial_line.find('\n', begin)) != std::string::npos) {
        logLine(uuid, std::string_view(partial_line).substr(begin, newline - begin), now);
        begin = newline + 1;
      }
      partial_line.erase(0, begin);
      if (partial_line.size() > kStderrKept) {  // no newline in sight: log it as it is
        logLine(uuid, partial_line, now);
        partial_line.clear();
      }
    }
  }

  // The end: the rest of the pipe, the last partial line, the drop count.
  void finish(const std::string& uuid) {
    read(uuid, true);
    const auto now = SteadyClock::now();
    if (!partial_line.empty()) {
      logLine(uuid, partial_line, now);
      partial_line.clear();
    }
    reportDropped(uuid, now, true);
  }
};

// Everything of one topology that only the reaper's thread touches, so that
// reading and logging its stderr needs no lock.
struct ProcessRunner::Stream {
  std::string uuid;
  pid_t supervisor = -1;
  pid_t pid = -1;
  std::string config_file;
  int control_fd = -1;
  bool control_open = true;  // false once the supervisor's socket reached its end
  sv::Inbox inbox;
  std::optional<std::pair<int, sv::Cause>> report;  // Exited: wait status, cause
  int left_behind = 0;
  std::string stderr_tail;
  OutputPipe err;
  OutputPipe out;
  // Without a namespace of its own: the supervisor was found stopped and
  // its tree killed from here.
  bool killed_stopped_supervisor = false;

  // A Node topology's IPC channel and where its protocol stands.
  std::unique_ptr<NodeChild> node;

  Logger& log;

  Stream(Logger& logger, std::size_t rate, std::size_t burst)
      : err("stderr", logger, &stderr_tail, rate, burst),
        out("stdout", logger, nullptr, rate, burst),
        log(logger) {}
  ~Stream() {
    if (control_fd >= 0) ::close(control_fd);
  }

  // Reads what the supervisor sent.
  void readControl() {
    char buffer[4096];
    while (control_open) {
      const auto n = ::recv(control_fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) {
        // Closed in finish(), once stop() and kill() can no longer use it.
        control_open = false;
        break;
      }
      inbox.append(buffer, static_cast<std::size_t>(n));
    }
    try {
      while (auto message = inbox.next()) {
        if (message->first != sv::Type::Exited) continue;
        sv::Reader r(message->second);
        const int status = r.i32();
        const auto cause = static_cast<sv::Cause>(r.u8());
        left_behind = r.i32();
        report = std::make_pair(status, cause);
      }
    } catch (const sv::ProtocolError& e) {
      logTo(log, LogLevel::error, "topology {}: bad report from its supervisor (pid {}): {}", uuid,
            supervisor, e.what());
    }
  }
};

Isolation strongestIsolation() {
  if (::geteuid() == 0 && canCreateNamespaces(false)) return Isolation::PidNamespace;
  if (canCreateNamespaces(true)) return Isolation::UserAndPidNamespace;
  return Isolation::None;
}

const char* describe(Isolation isolation) {
  switch (isolation) {
    case Isolation::PidNamespace:
      return "each supervisor is the init of a PID namespace of its own";
    case Isolation::UserAndPidNamespace:
      return "each supervisor is the init of a PID namespace of its own, in a user namespace "
             "of its own (topologies see their ids as 65534)";
    case Isolation::None:
      break;
  }
  return "none";
}

ProcessRunner::ProcessRunner(ProcessRunnerOptions options)
    : options_(std::move(options)), logger_(options_.logger ? options_.logger : defaultLogger()) {
  if (options_.supervisor.empty()) options_.supervisor = supervisorBesideExecutable();
  if (::access(options_.supervisor.c_str(), X_OK) != 0) {
    throw std::runtime_error(
        systemError("cannot run the topology supervisor " + options_.supervisor, errno));
  }
  isolation_ = options_.isolation.value_or(strongestIsolation());
  if (isolation_ == Isolation::None) {
    logTo(*logger_, LogLevel::warn,
          "topologies are not isolated from their supervisors: this kernel refuses this worker a "
          "PID namespace, so a topology can stop its supervisor and with it the lease; the worker "
          "kills the tree of a supervisor it finds stopped, but while the worker itself is paused "
          "nothing does (see docs/guarantees.md). Fix: allow unprivileged user namespaces "
          "(sysctl user.max_user_namespaces=N above 0, kernel.unprivileged_userns_clone=1 where "
          "it exists, no container or AppArmor rule against them) or run the worker as root");
  } else {
    logTo(*logger_, LogLevel::info, "topology isolation: {}", describe(isolation_));
  }
  if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error(systemError("cannot create a pipe", errno));
  }
  reaper_ = std::thread([this] { reap(); });
}

ProcessRunner::~ProcessRunner() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  wake();
  reaper_.join();
  for (auto& stream : arrived_) streams_.push_back(std::move(stream));
  const std::string kill_message = sv::Writer().message(sv::Type::Kill);
  for (auto& stream : streams_) {
    if (stream->control_fd >= 0) sendMessage(stream->control_fd, kill_message, false);
  }
  for (auto& stream : streams_) {
    // Closed, the socket tells the supervisor the same, should the Kill not
    // have reached it.
    if (stream->control_fd >= 0) ::close(stream->control_fd);
    stream->control_fd = -1;
    int status = 0;
    ::waitpid(stream->supervisor, &status, 0);
    std::remove(stream->config_file.c_str());
  }
  for (const pid_t pid : unreaped_) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void ProcessRunner::setExitCallback(ExitCallback callback) { on_exit_ = std::move(callback); }

std::optional<int> ProcessRunner::start(const StartRequest& request) {
  // Epoch 0 is no assignment's (a host starting a topology of its own).
  return launch(request.uuid, request.config,
                request.epoch > 0 ? std::optional(request.epoch) : std::nullopt);
}

std::optional<int> ProcessRunner::launch(const std::string& uuid, const Json& given_config,
                                         std::optional<std::int64_t> epoch) {
  const Json config = apps::applyOverrides(given_config, options_.overrides);
  const bool node = apps::formatOf(config) == apps::TopologyFormat::kNode;
  std::vector<std::string> argv_strings;
  std::string program;
  if (node) {
    if (!options_.node.available()) throw std::runtime_error(options_.node.problem);
    program = options_.node.node;
    // The uuid in argv only shows in ps, as with qtopology's own fork.
    argv_strings = {program, options_.node.wrapper, "uuid:" + uuid};
  } else {
    argv_strings = apps::commandOf(config);
    program = resolveProgram(argv_strings[0]);
  }
  const auto deadline = leaseIfNotRunning(uuid);
  Json written = config;
  // The assignment's epoch wins over a key of that name in the config.
  if (epoch) written["epoch"] = *epoch;
  auto stream =
      std::make_unique<Stream>(*logger_, options_.log_bytes_per_second, options_.log_burst_bytes);
  stream->uuid = uuid;
  stream->config_file = writeConfigFile(uuid, written);
  try {
    startSupervisor(*stream, node);
    handOver(*stream,
             topologySpec(*stream, program, std::move(argv_strings), epoch, deadline, node),
             program);
    if (node) sendInit(*stream, config);
  } catch (...) {
    std::remove(stream->config_file.c_str());
    throw;
  }
  const pid_t pid = stream->pid;
  const pid_t supervisor = stream->supervisor;
  adopt(std::move(stream), deadline);
  logTo(*logger_, LogLevel::info, "started topology {} as pid {} (supervisor pid {}): {}", uuid,
        pid, supervisor, escapeControl(program));
  return static_cast<int>(pid);
}

std::optional<SteadyClock::time_point> ProcessRunner::leaseIfNotRunning(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (const auto found = children_.find(uuid); found != children_.end()) {
    throw std::runtime_error("already runs here as pid " + std::to_string(found->second.pid));
  }
  return lease_deadline_;
}

supervision::Spec ProcessRunner::topologySpec(const Stream& stream, const std::string& program,
                                              std::vector<std::string> argv,
                                              std::optional<std::int64_t> epoch,
                                              std::optional<SteadyClock::time_point> deadline,
                                              bool node_channel) {
  std::map<std::string, std::string> set = {{"QTOPOLOGY_UUID", stream.uuid},
                                            {"QTOPOLOGY_WORKER", options_.worker},
                                            {"QTOPOLOGY_CONFIG", stream.config_file}};
  if (epoch) set.emplace("QTOPOLOGY_EPOCH", std::to_string(*epoch));
  if (node_channel) {
    set.emplace("NODE_CHANNEL_FD", "3");
    set.emplace("NODE_CHANNEL_SERIALIZATION_MODE", "json");
  }
  sv::Spec spec;
  spec.node_channel = node_channel;
  spec.program = program;
  spec.argv = std::move(argv);
  spec.envp = apps::childEnvironment(set, options_.environment);
  spec.config_file = stream.config_file;
  spec.grace_ms = options_.grace.count();
  if (deadline) {
    spec.lease_deadline_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(deadline->time_since_epoch()).count();
    if (spec.lease_deadline_ns == sv::kNoDeadline) spec.lease_deadline_ns = 1;
  }
  return spec;
}

void ProcessRunner::startSupervisor(Stream& stream, bool node_channel) {
  // Every descriptor is close-on-exec: the supervisor keeps only what the
  // spawn puts in place.
  Descriptors fds;
  const int stdin_fd = fds.own(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (stdin_fd < 0) throw std::runtime_error(systemError("cannot open /dev/null", errno));
  int stderr_pipe[2];
  int stdout_pipe[2];
  for (int* ends : {stderr_pipe, stdout_pipe}) {
    if (::pipe2(ends, O_CLOEXEC) != 0) {
      throw std::runtime_error(systemError("cannot create a pipe", errno));
    }
    fds.own(ends[0]);
    fds.own(ends[1]);
  }
  int control[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0) {
    throw std::runtime_error(systemError("cannot create a socket pair", errno));
  }
  fds.own(control[0]);
  fds.own(control[1]);
  int channel[2] = {-1, -1};
  if (node_channel) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
      throw std::runtime_error(systemError("cannot create a socket pair", errno));
    }
    fds.own(channel[0]);
    fds.own(channel[1]);
  }

  // Its descriptors: 0 /dev/null, 1 and 2 the worker's, 3 the control
  // socket, 4 and 5 the topology's stderr and stdout pipes, 6 a Node
  // topology's IPC channel; its environment is empty.
  ChildSpec child;
  child.program = options_.supervisor;
  child.argv = {options_.supervisor, "--parent", std::to_string(::getpid()), "--topology",
                stream.uuid};
  child.fds = {stdin_fd, 1, 2, control[1], stderr_pipe[1], stdout_pipe[1]};
  child.new_pid_namespace = isolation_ != Isolation::None;
  child.new_user_namespace = isolation_ == Isolation::UserAndPidNamespace;
  if (node_channel) child.fds.push_back(channel[1]);
  const Spawned spawned = spawn(child);
  if (spawned.pid < 0) {
    throw std::runtime_error(systemError(
        spawned.exec_failed ? "cannot run " + options_.supervisor : "cannot fork", spawned.error));
  }
  stream.supervisor = spawned.pid;
  stream.control_fd = fds.release(control[0]);
  stream.err.fd = fds.release(stderr_pipe[0]);
  stream.out.fd = fds.release(stdout_pipe[0]);
  ::fcntl(stream.err.fd, F_SETFL, O_NONBLOCK);
  ::fcntl(stream.out.fd, F_SETFL, O_NONBLOCK);
  if (node_channel) stream.node = std::make_unique<NodeChild>(fds.release(channel[0]));
}

void ProcessRunner::sendInit(Stream& stream, const Json& config) {
  // The config goes whole or not at all, within the start's time: a child
  // that does not read is as good as one that did not start.
  Json init = config;
  init["general"]["uuid"] = stream.uuid;
  const timeval send_timeout{static_cast<time_t>(kStartTimeout.count()), 0};
  ::setsockopt(stream.node->fd(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  if (!sendMessage(stream.node->fd(), ipc::encode(ipc::ParentCode::kInit, init), true)) {
    const int error_number = errno;
    ::kill(stream.supervisor, SIGKILL);
    int status = 0;
    ::waitpid(stream.supervisor, &status, 0);
    throw std::runtime_error(systemError(
        "the topology's node process (pid " + std::to_string(stream.pid) + ") took no init",
        error_number));
  }
  stream.node->initSent(config, SteadyClock::now());
}

void ProcessRunner::handOver(Stream& stream, const supervision::Spec& spec,
                             const std::string& program) {
  const pid_t pid = stream.supervisor;
  // Ends a supervisor that did not start the topology: the stream's
  // destructor closes its descriptors.
  const auto abandon = [&](bool kill_it) {
    if (kill_it) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  };
  if (!sendMessage(stream.control_fd, sv::encodeSpec(spec), true)) {
    const int error_number = errno;
    abandon(true);
    throw std::runtime_error(systemError("the supervisor took no spec", error_number));
  }
  const auto answer = firstAnswer(stream.control_fd, kStartTimeout);
  if (!answer || (answer->first != sv::Type::Started && answer->first != sv::Type::Failed)) {
    abandon(true);
    throw std::runtime_error("the supervisor (pid " + std::to_string(pid) +
                             ") did not start the topology within " +
                             std::to_string(kStartTimeout.count()) + " s");
  }
  const int value = sv::Reader(answer->second).i32();
  if (answer->first == sv::Type::Failed) {
    abandon(false);
    throw std::runtime_error(systemError("cannot run " + program, value));
  }
  stream.pid = value;
}

void ProcessRunner::adopt(std::unique_ptr<Stream> stream,
                          std::optional<SteadyClock::time_point> deadline) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Child child;
    child.supervisor = stream->supervisor;
    child.pid = stream->pid;
    child.control_fd = stream->control_fd;
    child.channel_fd = stream->node ? stream->node->fd() : -1;
    children_.emplace(stream->uuid, child);
    // Renewed while we started it: the supervisor holds the older deadline.
    if (lease_deadline_ && lease_deadline_ != deadline) {
      sendMessage(stream->control_fd, leaseMessage(*lease_deadline_), false);
    }
    arrived_.push_back(std::move(stream));
  }
  wake();
}

void ProcessRunner::stop(const std::string& uuid) {
  pid_t pid = -1;
  bool sent = false;
  bool node_shutdown = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = children_.find(uuid);
    if (found == children_.end()) return;
    Child& child = found->second;
    if (child.end_requested) return;  // a second stop does not extend the grace
    child.end_requested = true;
    pid = child.pid;
    if (child.channel_fd >= 0 &&
        sendMessage(child.channel_fd, ipc::encode(ipc::ParentCode::kShutdown), false)) {
      // qtopology's own shutdown first; the supervisor's SIGTERM comes at
      // half the grace (tendNodeChildren), its SIGKILL at the grace.
      const auto first = options_.grace / 2;
      child.terminate_at = SteadyClock::now() + first;
      node_shutdown = true;
    } else {
      sv::Writer w;
      w.i64(options_.grace.count());
      sent = sendMessage(child.control_fd, w.message(sv::Type::Stop), false);
    }
  }
  if (node_shutdown) {
    logTo(*logger_, LogLevel::info,
          "stopping Node topology {} (pid {}): shutdown message, SIGTERM to its processes after {} "
          "ms, SIGKILL after {} ms",
          uuid, pid, (options_.grace / 2).count(), options_.grace.count());
    return;
  }
  // Logged without the lock: a slow log must not delay kill() or the lease.
  if (sent) {
    logTo(*logger_, LogLevel::info,
          "stopping topology {} (pid {}): SIGTERM to its processes, SIGKILL after {} ms", uuid, pid,
          options_.grace.count());
  } else {
    logTo(*logger_, LogLevel::warn, "stopping topology {} (pid {}): its supervisor does not answer",
          uuid, pid);
  }
}

void ProcessRunner::kill(const std::string& uuid) {
  pid_t pid = -1;
  bool sent = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = children_.find(uuid);
    if (found == children_.end()) return;
    found->second.end_requested = true;
    pid = found->second.pid;
    sent = sendMessage(found->second.control_fd, sv::Writer().message(sv::Type::Kill), false);
  }
  logTo(*logger_, LogLevel::info, "killing topology {} (pid {}){}", uuid, pid,
        sent ? ": SIGKILL to its processes" : ": its supervisor does not answer");
}

void ProcessRunner::renewLease(SteadyClock::time_point deadline) {
  const std::string message = leaseMessage(deadline);
  std::lock_guard<std::mutex> lock(mutex_);
  lease_deadline_ = deadline;
  for (auto& [uuid, child] : children_) sendMessage(child.control_fd, message, false);
}

void ProcessRunner::wake() {
  const char byte = 1;
  // A full pipe already holds a wake-up.
  [[maybe_unused]] auto ignored = ::write(wake_fds_[1], &byte, 1);
}

// Once the supervisor has reported (or vanished): the rest of the stderr,
// the runner's records, the exit. True when the stream is done.
bool ProcessRunner::finish(Stream& stream, std::vector<TopologyExit>& exits) {
  if (!stream.report && stream.control_open) return false;
  stream.err.finish(stream.uuid);
  stream.out.finish(stream.uuid);
  bool end_requested = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto found = children_.find(stream.uuid); found != children_.end()) {
      end_requested = found->second.end_requested;
      children_.erase(found);
    }
  }
  // No one sends on the sockets any more: they may close.
  if (stream.control_fd >= 0) ::close(stream.control_fd);
  stream.control_fd = -1;
  if (stream.node) stream.node->close();
  int status = 0;
  const pid_t reaped = ::waitpid(stream.supervisor, &status, WNOHANG);
  if (reaped == 0) unreaped_.push_back(stream.supervisor);
  TopologyExit exit{stream.uuid, std::nullopt};
  if (stream.report) {
    const auto [topology_status, cause] = *stream.report;
    const std::string because = exitCauseText(cause, stream.supervisor);
    if (end_requested) {
      // Asked to end: however it ended, that is no failure.
    } else if (!because.empty()) {
      exit.error = because;
    } else if (stream.node && stream.node->error()) {
      // What qtopology's child said, as qtopology's own worker reports it.
      exit.error = *stream.node->error();
    } else if (cause == sv::Cause::Stopped || cause == sv::Cause::Killed) {
      // Asked to end: however it ended, that is no failure.
    } else if (!WIFEXITED(topology_status) || WEXITSTATUS(topology_status) != 0) {
      exit.error = failureText(topology_status, stream.stderr_tail);
    }
  } else {
    // The supervisor died without a word (SIGKILLed by someone): its
    // topology's first process died with it; end its group too, as far as
    // it is still there.
    if (stream.pid > 0) ::kill(-stream.pid, SIGKILL);
    if (!end_requested && stream.killed_stopped_supervisor) {
      exit.error = "its supervisor (pid " + std::to_string(stream.supervisor) +
                   ") was stopped by a signal: the worker killed its tree";
    } else if (!end_requested) {
      std::string how =
          reaped == stream.supervisor
              ? (WIFEXITED(status) ? "exited with code " + std::to_string(WEXITSTATUS(status))
                                   : "was killed by " + signalName(WTERMSIG(status)))
              : "vanished";
      exit.error = "its supervisor (pid " + std::to_string(stream.supervisor) + ") " + how +
                   " before the topology ended";
    }
  }
  std::remove(stream.config_file.c_str());  // the supervisor's job, unless it died
  logTo(*logger_, LogLevel::info, "topology {} (pid {}) ended{}{}{}", stream.uuid, stream.pid,
        end_requested ? " on request" : "", exit.error ? ": " + *exit.error : "",
        stream.left_behind > 0
            ? "; killed " + std::to_string(stream.left_behind) + " processes it left behind"
            : "");
  exits.push_back(std::move(exit));
  return true;
}

// Only without a namespace, where a topology can SIGSTOP its supervisor (the
// same uid): what the stopped supervisor can no longer do, done from here.
// A stopped process cannot fork, so the rounds end; SIGKILL reaches it
// stopped or not.
void ProcessRunner::killTreesOfStoppedSupervisors() {
  for (auto& stream : streams_) {
    if (!stream->control_open || stream->report || stream->killed_stopped_supervisor) continue;
    const char state = processState(stream->supervisor);
    if (state != 'T' && state != 't') continue;
    stream->killed_stopped_supervisor = true;
    logTo(*logger_, LogLevel::warn,
          "topology {} (pid {}): its supervisor (pid {}) is stopped: killing its tree from here",
          stream->uuid, stream->pid, stream->supervisor);
    for (int round = 0; round < 100 && !signalDescendants(stream->supervisor, SIGKILL).empty();
         ++round) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto pidfd = static_cast<int>(::syscall(SYS_pidfd_open, stream->supervisor, 0));
    if (pidfd >= 0) {
      ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      ::close(pidfd);
    }
  }
}

void ProcessRunner::reap() {
  std::vector<pollfd> polled;
  std::vector<std::pair<Stream*, OutputPipe*>> polled_streams;  // no pipe: its socket
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closing_) return;
      for (auto& stream : arrived_) streams_.push_back(std::move(stream));
      arrived_.clear();
    }
    polled.assign(1, pollfd{wake_fds_[0], POLLIN, 0});
    polled_streams.assign(1, {nullptr, nullptr});
    for (const auto& stream : streams_) {
      for (OutputPipe* pipe : {&stream->err, &stream->out}) {
        if (pipe->fd >= 0) {
          polled.push_back(pollfd{pipe->fd, POLLIN, 0});
          polled_streams.emplace_back(stream.get(), pipe);
        }
      }
      if (stream->control_open) {
        polled.push_back(pollfd{stream->control_fd, POLLIN, 0});
        polled_streams.emplace_back(stream.get(), nullptr);
      }
      if (stream->node && stream->node->open()) {  // read in tendNodeChildren()
        polled.push_back(pollfd{stream->node->fd(), POLLIN, 0});
        polled_streams.emplace_back(nullptr, nullptr);
      }
    }
    ::poll(polled.data(), polled.size(), static_cast<int>(kReaperPoll.count()));
    char drain[64];
    while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
    }
    for (std::size_t i = 1; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      auto [stream, pipe] = polled_streams[i];
      if (!stream) continue;  // a Node channel: read in tendNodeChildren()
      if (pipe) {
        pipe->read(stream->uuid, false);
      } else {
        stream->readControl();
      }
    }

    if (isolation_ == Isolation::None) killTreesOfStoppedSupervisors();
    std::vector<TopologyExit> exits;
    const auto now = SteadyClock::now();
    tendNodeChildren(now);
    for (auto it = streams_.begin(); it != streams_.end();) {
      for (OutputPipe* pipe : {&(*it)->err, &(*it)->out}) {
        pipe->reportDropped((*it)->uuid, now, false);
      }
      if (finish(**it, exits)) {
        it = streams_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = unreaped_.begin(); it != unreaped_.end();) {
      int status = 0;
      if (::waitpid(*it, &status, WNOHANG) != 0) {
        it = unreaped_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& exit : exits) {
      if (on_exit_) on_exit_(std::move(exit));
    }
  }
}

// For each Node topology: what its child said, the answers and pings it is
// owed, and the SIGTERM a stop has due.
void ProcessRunner::tendNodeChildren(SteadyClock::time_point now) {
  const std::string kill_message = sv::Writer().message(sv::Type::Kill);
  for (auto& stream : streams_) {
    if (!stream->node || stream->report) continue;
    NodeChild& node = *stream->node;
    const NodeChild::Tended tended = node.tend(now);
    if (tended.runs) {
      logTo(*logger_, LogLevel::info, "Node topology {} (pid {}) runs", stream->uuid, stream->pid);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& reply : tended.replies) {
        if (node.open()) sendMessage(node.fd(), reply, false);
      }
      if (tended.kill) sendMessage(stream->control_fd, kill_message, false);
    }
    // Logged without the lock, as stop() logs.
    if (tended.kill) {
      logTo(*logger_, LogLevel::warn, "killing Node topology {} (pid {}): {}", stream->uuid,
            stream->pid, escapeControl(node.error().value_or("")));
    }
  }
  // What stop() left for half the grace: the supervisor's SIGTERM, SIGKILL
  // after the other half.
  const auto grace_left = options_.grace - options_.grace / 2;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [uuid, child] : children_) {
    if (!child.terminate_at || now < *child.terminate_at) continue;
    child.terminate_at.reset();
    sv::Writer w;
    w.i64(grace_left.count());
    sendMessage(child.control_fd, w.message(sv::Type::Stop), false);
  }
}

}  // namespace qtopology::worker
