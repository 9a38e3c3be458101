#include "process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

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
#include "topology_config.hpp"

namespace qtopology::worker {
namespace {

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
};

// In the child, between fork and exec: async-signal-safe calls only (the
// worker has other threads; one may hold the allocator's lock).
[[noreturn]] void execChild(pid_t parent, int stdin_fd, int stderr_fd, int exec_error_fd,
                            int max_fd, const char* program, char* const* argv, char* const* envp) {
  ::setpgid(0, 0);
  // Die with the worker. If it died before prctl, the kernel will not send
  // the signal: our parent is then init or a subreaper, not `parent`.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal_number : {SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGCHLD}) {
    ::sigaction(signal_number, &default_action, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stderr_fd, 2) < 0) ::_exit(127);
  // Database sockets and other descriptors of the worker stay with it, even
  // those a library opened without close-on-exec.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd <= max_fd; ++fd) {
      if (fd != exec_error_fd) ::close(fd);
    }
  }
  ::execve(program, argv, envp);
  const int error_number = errno;
  [[maybe_unused]] auto ignored = ::write(exec_error_fd, &error_number, sizeof error_number);
  ::_exit(127);
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

}  // namespace

ProcessRunner::ProcessRunner(ProcessRunnerOptions options) : options_(std::move(options)) {
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
  for (auto& [uuid, child] : children_) {
    ::kill(-child.pid, SIGKILL);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    if (child.stderr_fd >= 0) ::close(child.stderr_fd);
    std::remove(child.config_file.c_str());
  }
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void ProcessRunner::setExitCallback(ExitCallback callback) { on_exit_ = std::move(callback); }

std::optional<int> ProcessRunner::start(const std::string& uuid, const Json& config) {
  auto argv_strings = apps::commandOf(config);
  const std::string program = resolveProgram(argv_strings[0]);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto found = children_.find(uuid); found != children_.end()) {
      throw std::runtime_error("already runs here as pid " + std::to_string(found->second.pid));
    }
  }
  Child child;
  child.config_file = writeConfigFile(uuid, config);
  try {
    auto env_strings = apps::childEnvironment({{"QTOPOLOGY_UUID", uuid},
                                               {"QTOPOLOGY_WORKER", options_.worker},
                                               {"QTOPOLOGY_CONFIG", child.config_file}});
    auto argv = apps::nullTerminated(argv_strings);
    auto envp = apps::nullTerminated(env_strings);

    // Every descriptor is close-on-exec: the child keeps only what it dup2s.
    Descriptors fds;
    const int stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (stdin_fd < 0) throw std::runtime_error(systemError("cannot open /dev/null", errno));
    fds.fds.push_back(stdin_fd);
    int stderr_pipe[2];
    int exec_error_pipe[2];
    for (int* ends : {stderr_pipe, exec_error_pipe}) {
      if (::pipe2(ends, O_CLOEXEC) != 0) {
        throw std::runtime_error(systemError("cannot create a pipe", errno));
      }
      fds.fds.insert(fds.fds.end(), {ends[0], ends[1]});
    }
    struct rlimit files {};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const int max_fd = files.rlim_cur == RLIM_INFINITY || files.rlim_cur > 65536
                           ? 65535
                           : static_cast<int>(files.rlim_cur) - 1;

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(systemError("cannot fork", errno));
    if (pid == 0) {
      execChild(parent, stdin_fd, stderr_pipe[1], exec_error_pipe[1], max_fd, program.c_str(),
                argv.data(), envp.data());
    }
    // Also here, so that a stop right after start reaches the whole group.
    ::setpgid(pid, pid);
    ::close(exec_error_pipe[1]);
    fds.fds.back() = -1;
    int exec_error = 0;
    ssize_t n;
    do {
      n = ::read(exec_error_pipe[0], &exec_error, sizeof exec_error);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {  // exec failed: the pipe closes on a successful exec
      int status = 0;
      ::waitpid(pid, &status, 0);
      throw std::runtime_error(systemError("cannot run " + program, exec_error));
    }
    child.pid = pid;
    child.stderr_fd = stderr_pipe[0];
    fds.fds[1] = -1;  // kept: the reaper reads and closes it
    ::fcntl(child.stderr_fd, F_SETFL, O_NONBLOCK);
  } catch (...) {
    std::remove(child.config_file.c_str());
    throw;
  }
  const pid_t pid = child.pid;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    children_.emplace(uuid, std::move(child));
  }
  wake();
  spdlog::info("started topology {} as pid {}: {}", uuid, pid, program);
  return static_cast<int>(pid);
}

void ProcessRunner::stop(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = children_.find(uuid);
  if (found == children_.end()) return;
  Child& child = found->second;
  if (child.end_requested) return;  // a second stop does not extend the grace
  child.end_requested = true;
  child.kill_at = std::chrono::steady_clock::now() + options_.grace;
  ::kill(-child.pid, SIGTERM);
  spdlog::info("sent SIGTERM to topology {} (pid {})", uuid, child.pid);
  wake();
}

void ProcessRunner::kill(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = children_.find(uuid);
  if (found == children_.end()) return;
  found->second.end_requested = true;
  found->second.kill_at.reset();
  ::kill(-found->second.pid, SIGKILL);
  spdlog::info("sent SIGKILL to topology {} (pid {})", uuid, found->second.pid);
}

void ProcessRunner::wake() {
  const char byte = 1;
  // A full pipe already holds a wake-up.
  [[maybe_unused]] auto ignored = ::write(wake_fds_[1], &byte, 1);
}

void ProcessRunner::readStderr(const std::string& uuid, Child& child) {
  char buffer[4096];
  while (child.stderr_fd >= 0) {
    const auto n = ::read(child.stderr_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: nothing more for now
    if (n == 0) {
      ::close(child.stderr_fd);
      child.stderr_fd = -1;
      break;
    }
    child.stderr_tail.append(buffer, static_cast<std::size_t>(n));
    if (child.stderr_tail.size() > kStderrKept) {
      child.stderr_tail.erase(0, child.stderr_tail.size() - kStderrKept);
    }
    child.partial_line.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = child.partial_line.find('\n')) != std::string::npos) {
      spdlog::info("[{}] {}", uuid, child.partial_line.substr(0, newline));
      child.partial_line.erase(0, newline + 1);
    }
    if (child.partial_line.size() > kStderrKept) {  // no newline in sight: log it as it is
      spdlog::info("[{}] {}", uuid, child.partial_line);
      child.partial_line.clear();
    }
  }
  if (!child.partial_line.empty()) {
    spdlog::info("[{}] {}", uuid, child.partial_line);
    child.partial_line.clear();
  }
}

void ProcessRunner::reap() {
  std::vector<pollfd> polled;
  std::vector<std::string> polled_uuids;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closing_) return;
      polled.assign(1, pollfd{wake_fds_[0], POLLIN, 0});
      polled_uuids.assign(1, "");
      for (const auto& [uuid, child] : children_) {
        if (child.stderr_fd < 0) continue;
        polled.push_back(pollfd{child.stderr_fd, POLLIN, 0});
        polled_uuids.push_back(uuid);
      }
    }
    ::poll(polled.data(), polled.size(), static_cast<int>(kReaperPoll.count()));
    char drain[64];
    while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
    }

    std::vector<TopologyExit> exits;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = children_.begin(); it != children_.end();) {
        auto& [uuid, child] = *it;
        readStderr(uuid, child);
        if (child.kill_at && *child.kill_at <= now) {
          spdlog::info("topology {} (pid {}) still runs after the grace period: SIGKILL", uuid,
                       child.pid);
          ::kill(-child.pid, SIGKILL);
          child.kill_at.reset();
        }
        // Seen exited but not reaped yet: the zombie keeps its pid and
        // process group from being reused while we kill what it left behind.
        siginfo_t info{};
        const int seen =
            ::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOHANG | WNOWAIT);
        // ECHILD: someone else reaped it (SIGCHLD ignored, or the host's own
        // waitpid(-1)); it has ended, how is lost.
        const bool reaped_elsewhere = seen != 0 && errno == ECHILD;
        if (!reaped_elsewhere && (seen != 0 || info.si_pid != child.pid)) {
          ++it;
          continue;
        }
        int status = 0;
        if (!reaped_elsewhere) {
          ::kill(-child.pid, SIGKILL);
          ::waitpid(child.pid, &status, 0);
        }
        readStderr(uuid, child);
        if (child.stderr_fd >= 0) ::close(child.stderr_fd);
        std::remove(child.config_file.c_str());
        TopologyExit exit{uuid, std::nullopt};
        if (child.end_requested) {
          // Asked to end: however it ended, that is no failure.
        } else if (reaped_elsewhere) {
          exit.error = "ended, but its exit status was collected elsewhere (is SIGCHLD ignored?)";
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
          exit.error = failureText(status, child.stderr_tail);
        }
        spdlog::info("topology {} (pid {}) ended{}{}", uuid, child.pid,
                     child.end_requested ? " on request" : "",
                     exit.error ? ": " + *exit.error : "");
        exits.push_back(std::move(exit));
        it = children_.erase(it);
      }
    }
    for (auto& exit : exits) {
      if (on_exit_) on_exit_(std::move(exit));
    }
  }
}

}  // namespace qtopology::worker
