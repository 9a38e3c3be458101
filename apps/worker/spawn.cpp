#include "spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/close_range.h>

#include <cerrno>

namespace qtopology::worker {
namespace {

// More than any caller passes: the child's copies live on its stack.
constexpr std::size_t kMaxChildFds = 16;

// Everything the child uses, made before the fork: the child allocates
// nothing.
struct Prepared {
  const char* program = nullptr;
  std::vector<char*> argv;
  std::vector<char*> envp;
  const std::vector<int>* fds = nullptr;
  int status_fd = -1;  // the exec's errno goes here; closed by a successful exec
  int max_fd = 0;      // for closing one by one where close_range cannot
  bool own_session = false;
  int parent_death_signal = 0;
  pid_t parent = -1;
  bool new_pid_namespace = false;
  bool new_user_namespace = false;
};

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int highestDescriptorBound() {
  struct rlimit files {};
  ::getrlimit(RLIMIT_NOFILE, &files);
  return files.rlim_cur == RLIM_INFINITY || files.rlim_cur > 65536
             ? 65535
             : static_cast<int>(files.rlim_cur) - 1;
}

// The child's end when a step fails: errno to the parent.
[[noreturn]] void failIn(int status_fd) {
  const int error_number = errno;
  [[maybe_unused]] auto ignored = ::write(status_fd, &error_number, sizeof error_number);
  ::_exit(127);
}

// What /proc/self points to; async-signal-safe.
pid_t pidOfProcSelf() {
  char link[32];
  const auto n = ::readlink("/proc/self", link, sizeof link - 1);
  if (n <= 0) return ::getpid();  // no /proc: no other name either
  pid_t pid = 0;
  for (ssize_t i = 0; i < n; ++i) {
    if (link[i] < '0' || link[i] > '9') return ::getpid();
    pid = pid * 10 + (link[i] - '0');
  }
  return pid;
}

// fork(), or a fork into new namespaces (clone without a new stack). The
// C library's fork handlers do not run for the latter: the child calls
// nothing that needs them.
pid_t forkInto(bool new_pid_namespace, bool new_user_namespace) {
  if (!new_pid_namespace && !new_user_namespace) return ::fork();
  unsigned long flags = SIGCHLD;
  if (new_pid_namespace) flags |= CLONE_NEWPID;
  if (new_user_namespace) flags |= CLONE_NEWUSER;
  return static_cast<pid_t>(::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
}

// Between fork and exec: async-signal-safe calls only.
[[noreturn]] void becomeChild(const Prepared& p) {
  int status_fd = p.status_fd;
  // First on the pipe: the pid the parent cannot know from clone in a
  // namespace of its own.
  const pid_t visible = pidOfProcSelf();
  if (::write(status_fd, &visible, sizeof visible) != static_cast<ssize_t>(sizeof visible)) {
    ::_exit(127);
  }
  if (p.own_session && ::setsid() < 0) failIn(status_fd);
  if (p.parent_death_signal != 0) {
    if (::prctl(PR_SET_PDEATHSIG, p.parent_death_signal) != 0) failIn(status_fd);
    // Too late: nobody to run for. (A namespace's init has no parent in it.)
    if (!p.new_pid_namespace && ::getppid() != p.parent) ::_exit(127);
  }
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  // Ignored signals stay ignored across exec; handlers do not matter. The
  // few the C library reserves refuse, and need not be reset.
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    if (signal_number != SIGKILL && signal_number != SIGSTOP) {
      ::sigaction(signal_number, &default_action, nullptr);
    }
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Every source out of the way of the numbers it goes to, whatever numbers
  // they had, then into place (dup2 clears close-on-exec on its target).
  const auto count = static_cast<int>(p.fds->size());
  int moved[kMaxChildFds];
  status_fd = ::fcntl(p.status_fd, F_DUPFD_CLOEXEC, count);
  if (status_fd < 0) ::_exit(127);
  for (int i = 0; i < count; ++i) {
    moved[i] = ::fcntl((*p.fds)[static_cast<std::size_t>(i)], F_DUPFD_CLOEXEC, count);
    if (moved[i] < 0) failIn(status_fd);
  }
  for (int i = 0; i < count; ++i) {
    if (::dup2(moved[i], i) < 0) failIn(status_fd);
  }
  // The rest stays with the caller, also what was opened without
  // close-on-exec. Marked rather than closed: the status pipe must stay
  // open until the exec.
  if (::close_range(static_cast<unsigned>(count), ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = count; fd <= p.max_fd; ++fd) {
      if (fd != status_fd) ::close(fd);
    }
  }
  ::execve(p.program, p.argv.data(), p.envp.data());
  failIn(status_fd);
}

}  // namespace

Spawned spawn(const ChildSpec& spec) {
  Spawned out;
  if (spec.fds.size() > kMaxChildFds || spec.argv.empty()) {
    out.error = EINVAL;
    return out;
  }
  Prepared p;
  p.program = spec.program.c_str();
  p.argv = pointers(spec.argv);
  p.envp = pointers(spec.envp);
  p.fds = &spec.fds;
  p.max_fd = highestDescriptorBound();
  p.own_session = spec.own_session;
  p.new_pid_namespace = spec.new_pid_namespace;
  p.new_user_namespace = spec.new_user_namespace;
  p.parent_death_signal = spec.parent_death_signal;
  p.parent = ::getpid();
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    out.error = errno;
    return out;
  }
  p.status_fd = status[1];

  const pid_t pid = forkInto(spec.new_pid_namespace, spec.new_user_namespace);
  if (pid == 0) becomeChild(p);
  ::close(status[1]);
  if (pid < 0) {
    out.error = errno;
    ::close(status[0]);
    return out;
  }
  const auto readInt = [&status](int& value) {
    ssize_t n;
    do {
      n = ::read(status[0], &value, sizeof value);
    } while (n < 0 && errno == EINTR);
    return n;
  };
  int visible = pid;
  int error_number = 0;
  ssize_t n = readInt(visible);
  if (n > 0) n = readInt(error_number);
  ::close(status[0]);
  if (n > 0) {  // the pipe closes without a word on a successful exec
    int wait_status = 0;
    ::waitpid(pid, &wait_status, 0);
    out.error = error_number;
    out.exec_failed = true;
    return out;
  }
  out.pid = pid;
  out.visible_pid = visible;
  return out;
}

bool canCreateNamespaces(bool new_user_namespace) {
  const pid_t pid = forkInto(true, new_user_namespace);
  if (pid < 0) return false;
  if (pid == 0) ::_exit(0);
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

pid_t visiblePid() { return pidOfProcSelf(); }

}  // namespace qtopology::worker
