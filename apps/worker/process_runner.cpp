#include "process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <linux/close_range.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "child_environment.hpp"
#include "core/printable.hpp"
#include "log_rate_limit.hpp"
#include "supervisor_protocol.hpp"
#include "topology_config.hpp"

namespace qtopology::worker {
namespace {

namespace sv = supervision;
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
// rather than an exit code 127.
std::string resolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    auto end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end == begin ? "." : dirs.substr(begin, end - begin);
    const std::string candidate = dir + "/" + program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    begin = end + 1;
  }
  throw std::runtime_error("general.command[0]: program '" + program + "' not found in PATH");
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

// Closes the descriptors it owns, whichever way start() leaves.
struct Descriptors {
  std::vector<int> fds;
  ~Descriptors() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
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

// In the supervisor's process, between fork and exec: async-signal-safe
// calls only (the worker has other threads; one may hold the allocator's
// lock). Its descriptors: 0 /dev/null, 1 and 2 the worker's, 3 the control
// socket, 4 the topology's stderr pipe; its environment is empty.
[[noreturn]] void execSupervisor(int stdin_fd, int control_fd, int stderr_fd, int exec_error_fd,
                                 int max_fd, const char* program, char* const* argv) {
  // Out of the way of 0, 3 and 4 first, whatever numbers they had.
  const int control = ::fcntl(control_fd, F_DUPFD, 10);
  const int err = ::fcntl(stderr_fd, F_DUPFD, 10);
  if (control < 0 || err < 0 || ::dup2(stdin_fd, 0) < 0 || ::dup2(control, 3) < 0 ||
      ::dup2(err, 4) < 0) {
    ::_exit(127);
  }
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal_number : {SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGCHLD, SIGUSR2}) {
    ::sigaction(signal_number, &default_action, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Database sockets and other descriptors of the worker stay with it, even
  // those a library opened without close-on-exec.
  if (::close_range(5, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 5; fd <= max_fd; ++fd) {
      if (fd != exec_error_fd) ::close(fd);
    }
  }
  char* const no_environment[] = {nullptr};
  ::execve(program, argv, no_environment);
  const int error_number = errno;
  [[maybe_unused]] auto ignored = ::write(exec_error_fd, &error_number, sizeof error_number);
  ::_exit(127);
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

// Everything of one topology that only the reaper's thread touches, so that
// reading and logging its stderr needs no lock.
struct ProcessRunner::Stream {
  std::string uuid;
  pid_t supervisor = -1;
  pid_t pid = -1;
  std::string config_file;
  int control_fd = -1;
  bool control_open = true;  // false once the supervisor's socket reached its end
  int stderr_fd = -1;        // -1 once the pipe reached its end
  sv::Inbox inbox;
  std::optional<std::pair<int, sv::Cause>> report;  // Exited: wait status, cause
  int left_behind = 0;
  std::string stderr_tail;
  std::string partial_line;  // stderr since the last newline, not logged yet
  Logger& log;
  LogRateLimit limit;

  Stream(Logger& logger, std::size_t rate, std::size_t burst)
      : log(logger), limit(rate, burst, SteadyClock::now()) {}
  ~Stream() {
    if (control_fd >= 0) ::close(control_fd);
    if (stderr_fd >= 0) ::close(stderr_fd);
  }

  void logLine(std::string_view line, SteadyClock::time_point now) {
    if (limit.admit(line.size(), now))
      logTo(log, LogLevel::info, "[{}] {}", uuid, detail::escapeControl(line));
  }

  void reportDropped(SteadyClock::time_point now, bool final, std::size_t rate) {
    if (const auto dropped = limit.report(now, final)) {
      logTo(log, LogLevel::warn,
            "[{}] {} lines ({} bytes) of stderr not logged: over the limit of {} bytes/s", uuid,
            dropped->lines, dropped->bytes, rate);
    }
  }

  // At most kReadPerRound bytes unless `all` (the tree is gone: what is
  // left in the pipe is all there will be).
  void readStderr(bool all) {
    char buffer[65536];
    std::size_t taken = 0;
    while (stderr_fd >= 0 && (all || taken < kReadPerRound)) {
      const auto n = ::read(stderr_fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;  // EAGAIN: nothing more for now
      if (n == 0) {
        ::close(stderr_fd);
        stderr_fd = -1;
        break;
      }
      taken += static_cast<std::size_t>(n);
      const auto now = SteadyClock::now();
      stderr_tail.append(buffer, static_cast<std::size_t>(n));
      if (stderr_tail.size() > kStderrKept) {
        stderr_tail.erase(0, stderr_tail.size() - kStderrKept);
      }
      partial_line.append(buffer, static_cast<std::size_t>(n));
      std::size_t begin = 0;
      std::size_t newline;
      while ((newline = partial_line.find('\n', begin)) != std::string::npos) {
        logLine(std::string_view(partial_line).substr(begin, newline - begin), now);
        begin = newline + 1;
      }
      partial_line.erase(0, begin);
      if (partial_line.size() > kStderrKept) {  // no newline in sight: log it as it is
        logLine(partial_line, now);
        partial_line.clear();
      }
    }
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

ProcessRunner::ProcessRunner(ProcessRunnerOptions options)
    : options_(std::move(options)), logger_(options_.logger ? options_.logger : defaultLogger()) {
  if (options_.supervisor.empty()) options_.supervisor = supervisorBesideExecutable();
  if (::access(options_.supervisor.c_str(), X_OK) != 0) {
    throw std::runtime_error(
        systemError("cannot run the topology supervisor " + options_.supervisor, errno));
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

std::optional<int> ProcessRunner::launch(const std::string& uuid, const Json& config,
                                         std::optional<std::int64_t> epoch) {
  auto argv_strings = apps::commandOf(config);
  const std::string program = resolveProgram(argv_strings[0]);
  std::optional<SteadyClock::time_point> deadline;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto found = children_.find(uuid); found != children_.end()) {
      throw std::runtime_error("already runs here as pid " + std::to_string(found->second.pid));
    }
    deadline = lease_deadline_;
  }
  Json written = config;
  // The assignment's epoch wins over a key of that name in the config.
  if (epoch) written["epoch"] = *epoch;
  auto stream =
      std::make_unique<Stream>(*logger_, options_.log_bytes_per_second, options_.log_burst_bytes);
  stream->uuid = uuid;
  stream->config_file = writeConfigFile(uuid, written);
  try {
    std::map<std::string, std::string> set = {{"QTOPOLOGY_UUID", uuid},
                                              {"QTOPOLOGY_WORKER", options_.worker},
                                              {"QTOPOLOGY_CONFIG", stream->config_file}};
    if (epoch) set.emplace("QTOPOLOGY_EPOCH", std::to_string(*epoch));
    sv::Spec spec;
    spec.program = program;
    spec.argv = argv_strings;
    spec.envp = apps::childEnvironment(set, options_.passed_environment);
    spec.config_file = stream->config_file;
    spec.grace_ms = options_.grace.count();
    if (deadline) {
      spec.lease_deadline_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(deadline->time_since_epoch())
              .count();
      if (spec.lease_deadline_ns == sv::kNoDeadline) spec.lease_deadline_ns = 1;
    }
    std::vector<std::string> supervisor_args = {options_.supervisor, "--parent",
                                                std::to_string(::getpid()), "--topology", uuid};
    auto argv = apps::nullTerminated(supervisor_args);

    // Every descriptor is close-on-exec: the supervisor keeps only what it
    // dup2s.
    Descriptors fds;
    const int stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (stdin_fd < 0) throw std::runtime_error(systemError("cannot open /dev/null", errno));
    fds.fds.push_back(stdin_fd);
    int stderr_pipe[2];
    int exec_error_pipe[2];
    int control[2];
    for (int* ends : {stderr_pipe, exec_error_pipe}) {
      if (::pipe2(ends, O_CLOEXEC) != 0) {
        throw std::runtime_error(systemError("cannot create a pipe", errno));
      }
      fds.fds.insert(fds.fds.end(), {ends[0], ends[1]});
    }
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0) {
      throw std::runtime_error(systemError("cannot create a socket pair", errno));
    }
    fds.fds.insert(fds.fds.end(), {control[0], control[1]});
    struct rlimit files {};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const int max_fd = files.rlim_cur == RLIM_INFINITY || files.rlim_cur > 65536
                           ? 65535
                           : static_cast<int>(files.rlim_cur) - 1;

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(systemError("cannot fork", errno));
    if (pid == 0) {
      execSupervisor(stdin_fd, control[1], stderr_pipe[1], exec_error_pipe[1], max_fd,
                     options_.supervisor.c_str(), argv.data());
    }
    stream->supervisor = pid;
    for (int fd : {control[1], stderr_pipe[1], exec_error_pipe[1]}) ::close(fds.release(fd));
    const auto reapSupervisor = [pid] {
      int status = 0;
      ::waitpid(pid, &status, 0);
    };
    int exec_error = 0;
    ssize_t n;
    do {
      n = ::read(exec_error_pipe[0], &exec_error, sizeof exec_error);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {  // exec failed: the pipe closes on a successful exec
      reapSupervisor();
      throw std::runtime_error(systemError("cannot run " + options_.supervisor, exec_error));
    }
    if (!sendMessage(control[0], sv::encodeSpec(spec), true)) {
      ::kill(pid, SIGKILL);
      reapSupervisor();
      throw std::runtime_error(systemError("the supervisor took no spec", errno));
    }
    const auto answer = firstAnswer(control[0], kStartTimeout);
    if (!answer || (answer->first != sv::Type::Started && answer->first != sv::Type::Failed)) {
      ::kill(pid, SIGKILL);
      reapSupervisor();
      throw std::runtime_error("the supervisor (pid " + std::to_string(pid) +
                               ") did not start the topology within " +
                               std::to_string(kStartTimeout.count()) + " s");
    }
    const int value = sv::Reader(answer->second).i32();
    if (answer->first == sv::Type::Failed) {
      reapSupervisor();
      throw std::runtime_error(systemError("cannot run " + program, value));
    }
    stream->pid = value;
    stream->control_fd = fds.release(control[0]);
    stream->stderr_fd = fds.release(stderr_pipe[0]);
    ::fcntl(stream->stderr_fd, F_SETFL, O_NONBLOCK);
  } catch (...) {
    std::remove(stream->config_file.c_str());
    throw;
  }
  const pid_t pid = stream->pid;
  const pid_t supervisor = stream->supervisor;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    children_.emplace(uuid, Child{supervisor, pid, stream->control_fd, false});
    // Renewed while we started it: the supervisor holds the older deadline.
    if (lease_deadline_ && lease_deadline_ != deadline) {
      sendMessage(stream->control_fd, leaseMessage(*lease_deadline_), false);
    }
    arrived_.push_back(std::move(stream));
  }
  wake();
  logTo(*logger_, LogLevel::info, "started topology {} as pid {} (supervisor pid {}): {}", uuid,
        pid, supervisor, detail::escapeControl(program));
  return static_cast<int>(pid);
}

void ProcessRunner::stop(const std::string& uuid) {
  pid_t pid = -1;
  bool sent = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = children_.find(uuid);
    if (found == children_.end()) return;
    Child& child = found->second;
    if (child.end_requested) return;  // a second stop does not extend the grace
    child.end_requested = true;
    pid = child.pid;
    sv::Writer w;
    w.i64(options_.grace.count());
    sent = sendMessage(child.control_fd, w.message(sv::Type::Stop), false);
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
  stream.readStderr(true);
  const auto now = SteadyClock::now();
  if (!stream.partial_line.empty()) {
    stream.logLine(stream.partial_line, now);
    stream.partial_line.clear();
  }
  stream.reportDropped(now, true, options_.log_bytes_per_second);
  bool end_requested = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto found = children_.find(stream.uuid); found != children_.end()) {
      end_requested = found->second.end_requested;
      children_.erase(found);
    }
  }
  // No one sends on the socket any more: it may close.
  if (stream.control_fd >= 0) ::close(stream.control_fd);
  stream.control_fd = -1;
  int status = 0;
  const pid_t reaped = ::waitpid(stream.supervisor, &status, WNOHANG);
  if (reaped == 0) unreaped_.push_back(stream.supervisor);
  TopologyExit exit{stream.uuid, std::nullopt};
  if (stream.report) {
    const auto [topology_status, cause] = *stream.report;
    const std::string because = exitCauseText(cause, stream.supervisor);
    if (end_requested || cause == sv::Cause::Stopped || cause == sv::Cause::Killed) {
      // Asked to end: however it ended, that is no failure.
    } else if (!because.empty()) {
      exit.error = because;
    } else if (!WIFEXITED(topology_status) || WEXITSTATUS(topology_status) != 0) {
      exit.error = failureText(topology_status, stream.stderr_tail);
    }
  } else {
    // The supervisor died without a word (SIGKILLed by someone): its
    // topology's first process died with it; end its group too, as far as
    // it is still there.
    if (stream.pid > 0) ::kill(-stream.pid, SIGKILL);
    if (!end_requested) {
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

void ProcessRunner::reap() {
  std::vector<pollfd> polled;
  std::vector<std::pair<Stream*, bool>> polled_streams;  // true: its stderr, false: its socket
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closing_) return;
      for (auto& stream : arrived_) streams_.push_back(std::move(stream));
      arrived_.clear();
    }
    polled.assign(1, pollfd{wake_fds_[0], POLLIN, 0});
    polled_streams.assign(1, {nullptr, false});
    for (const auto& stream : streams_) {
      if (stream->stderr_fd >= 0) {
        polled.push_back(pollfd{stream->stderr_fd, POLLIN, 0});
        polled_streams.emplace_back(stream.get(), true);
      }
      if (stream->control_open) {
        polled.push_back(pollfd{stream->control_fd, POLLIN, 0});
        polled_streams.emplace_back(stream.get(), false);
      }
    }
    ::poll(polled.data(), polled.size(), static_cast<int>(kReaperPoll.count()));
    char drain[64];
    while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
    }
    for (std::size_t i = 1; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      auto [stream, is_stderr] = polled_streams[i];
      if (is_stderr) {
        stream->readStderr(false);
      } else {
        stream->readControl();
      }
    }

    std::vector<TopologyExit> exits;
    const auto now = SteadyClock::now();
    for (auto it = streams_.begin(); it != streams_.end();) {
      (*it)->reportDropped(now, false, options_.log_bytes_per_second);
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

}  // namespace qtopology::worker
