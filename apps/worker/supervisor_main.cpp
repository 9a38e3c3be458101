// qtopology-supervisor: runs one topology for qtopology-worker and holds the
// worker's lease beside it. Not for running by hand: the worker starts it
// with the control socket as descriptor 3 and the write ends of the
// topology's stderr and stdout pipes as descriptors 4 and 5, and for a Node
// topology its IPC channel as 6 (see supervisor_protocol.hpp).
//
// Where the kernel allows it, the worker starts it as the init of a PID
// namespace of its own: its topology can then neither name it nor stop it
// (an init gets no signal from inside that it has not asked for), and its
// end ends every process in the namespace. Either way it is the subreaper of
// the topology's whole tree, and ends that tree (every descendant, in
// whatever process group or session; the topology gets a session of its
// own, without a terminal) when the lease's
// deadline passes without renewal, when the worker goes away (the socket
// closes, or the parent-death signal arrives), or on request. It reports the
// end once nothing of the tree lives, removes the config file, and exits.
//
// Single-threaded: one poll loop over the socket, a signalfd and two
// timerfds. Its environment is empty; the topology's travels in the spec, so
// that the supervisor never looks like a process of the topology in /proc.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "process_tree.hpp"
#include "spawn.hpp"
#include "supervisor_protocol.hpp"

namespace {

using namespace qtopology::worker;
using namespace qtopology::worker::supervision;

constexpr int kControlFd = 3;
constexpr int kStderrFd = 4;
constexpr int kStdoutFd = 5;
// Between kill rounds: a SIGKILLed process needs a moment to become a
// zombie, and whatever it leaves behind reparents to us only then.
constexpr int kKillRoundMs = 10;
constexpr int kSpecTimeoutMs = 30000;

// Notes for the operator, on the worker's stderr: only for what happens
// while nobody else can tell (the worker paused or gone). No uuid in them:
// the text would come from outside; the pids and the parent say whose.
void note(const char* format, ...) {
  char text[512];
  // The pid as the operator sees it, also from inside a PID namespace.
  static const pid_t self = visiblePid();
  const int prefix = std::snprintf(text, sizeof text, "qtopology-supervisor[%d]: ", self);
  va_list args;
  va_start(args, format);
  std::vsnprintf(text + prefix, sizeof text - static_cast<std::size_t>(prefix) - 1, format, args);
  va_end(args);
  std::size_t size = std::strlen(text);
  text[size++] = '\n';
  [[maybe_unused]] auto ignored = ::write(2, text, size);
}

std::int64_t nanosOf(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

timespec timespecOf(std::int64_t nanos) {
  return timespec{static_cast<time_t>(nanos / 1000000000), static_cast<long>(nanos % 1000000000)};
}

bool sendAll(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(kControlFd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads the spec, the first message, within kSpecTimeoutMs; what came after
// it stays in `inbox`.
std::optional<Spec> readSpec(Inbox& inbox) {
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    try {
      if (auto message = inbox.next()) {
        if (message->first != Type::Spec) return std::nullopt;
        return decodeSpec(message->second);
      }
    } catch (const ProtocolError& e) {
      note("bad spec from the worker: %s", e.what());
      return std::nullopt;
    }
    pollfd polled{kControlFd, POLLIN, 0};
    const auto waited_ms =
        (nanosOf(CLOCK_MONOTONIC) -
         (static_cast<std::int64_t>(start.tv_sec) * 1000000000 + start.tv_nsec)) /
        1000000;
    if (waited_ms >= kSpecTimeoutMs) return std::nullopt;
    if (::poll(&polled, 1, static_cast<int>(kSpecTimeoutMs - waited_ms)) < 0 && errno != EINTR) {
      return std::nullopt;
    }
    char buffer[65536];
    const auto n = ::read(kControlFd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return std::nullopt;
    inbox.append(buffer, static_cast<std::size_t>(n));
  }
}

// What the loop reads from its signalfd; blocked from the start, so that none
// of them can end us before the loop runs.
const sigset_t& handledSignals() {
  static const sigset_t handled = [] {
    sigset_t set;
    ::sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR2}) ::sigaddset(&set, s);
    return set;
  }();
  return handled;
}

class Supervisor {
 public:
  Supervisor(pid_t parent, Spec spec, Inbox inbox)
      : parent_(parent), spec_(std::move(spec)), inbox_(std::move(inbox)) {}

  int run() {
    if (!start()) return 0;
    loop();
    std::remove(spec_.config_file.c_str());
    if (control_open_) {
      Writer w;
      w.i32(main_status_.value_or(0));
      w.u8(static_cast<std::uint8_t>(cause_));
      w.i32(static_cast<std::int32_t>(left_behind_.size()));
      sendAll(w.message(Type::Exited));
    }
    return 0;
  }

 private:
  enum class Phase { Running, Stopping, Killing };

  bool start() {
    signal_fd_ = ::signalfd(-1, &handledSignals(), SFD_CLOEXEC | SFD_NONBLOCK);
    lease_fd_ = ::timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    grace_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (signal_fd_ < 0 || lease_fd_ < 0 || grace_fd_ < 0) {
      note("cannot set up: %s", std::strerror(errno));
      fail(errno);
      return false;
    }
    if (spec_.lease_deadline_ns != kNoDeadline) renew(spec_.lease_deadline_ns);

    // The topology's descriptors: 0 /dev/null, 1 and 2 the pipes the worker
    // reads; none of them a terminal.
    const int stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (stdin_fd < 0) {
      fail(errno);
      return false;
    }
    ChildSpec child;
    child.program = spec_.program;
    child.argv = spec_.argv;
    child.envp = spec_.envp;
    child.fds = {stdin_fd, kStdoutFd, kStderrFd};
    // A Node topology's IPC channel becomes its descriptor 3 (NODE_CHANNEL_FD).
    if (spec_.node_channel) child.fds.push_back(kNodeChannelFd);
    child.own_session = true;
    // The tree's first process dies with us whatever happens to us; what it
    // starts reparents to us while we live, and we end it.
    child.parent_death_signal = SIGKILL;
    const Spawned spawned = spawn(child);
    ::close(stdin_fd);
    // Else the worker would see the pipes' ends only after us.
    ::close(kStderrFd);
    ::close(kStdoutFd);
    // Likewise the channel: the worker sees it close when the child ends.
    if (spec_.node_channel) ::close(kNodeChannelFd);
    if (spawned.pid < 0) {
      fail(spawned.error);
      return false;
    }
    main_ = spawned.pid;
    main_visible_ = spawned.visible_pid;
    Writer w;
    w.i32(spawned.visible_pid);  // the worker records it: the pid /proc shows
    if (!sendAll(w.message(Type::Started))) workerGone();
    return true;
  }

  void fail(int error_number) {
    std::remove(spec_.config_file.c_str());
    Writer w;
    w.i32(error_number);
    sendAll(w.message(Type::Failed));
  }

  // The deadline is on the worker's CLOCK_MONOTONIC; the timer runs on
  // CLOCK_BOOTTIME, which also counts a suspended machine's sleep, so that a
  // host that resumes after its lease ends the tree at once.
  void renew(std::int64_t deadline_ns) {
    const std::int64_t remaining = deadline_ns - nanosOf(CLOCK_MONOTONIC);
    itimerspec timer{};
    // A zero it_value would disarm the timer: a deadline already past fires
    // one nanosecond from now.
    timer.it_value = timespecOf(nanosOf(CLOCK_BOOTTIME) + std::max<std::int64_t>(remaining, 1));
    ::timerfd_settime(lease_fd_, TFD_TIMER_ABSTIME, &timer, nullptr);
  }

  void stop(std::int64_t grace_ms, Cause cause) {
    if (phase_ != Phase::Running) return;  // a second stop does not extend the grace
    cause_ = cause;
    phase_ = Phase::Stopping;
    signalTree(SIGTERM);
    itimerspec timer{};
    timer.it_value = timespecOf(std::max<std::int64_t>(grace_ms, 1) * 1000000);
    ::timerfd_settime(grace_fd_, 0, &timer, nullptr);
  }

  void killAll(Cause cause) {
    if (phase_ == Phase::Killing) return;
    // A tree asked to stop that ends by SIGKILL was still stopped on request.
    if (!(phase_ == Phase::Stopping && (cause == Cause::Killed))) cause_ = cause;
    phase_ = Phase::Killing;
  }

  void workerGone() {
    control_open_ = false;
    if (phase_ != Phase::Killing && main_status_ == std::nullopt) {
      note("the worker (pid %d) is gone: killing topology pid %d and its descendants", parent_,
           main_visible_);
    }
    killAll(Cause::WorkerGone);
  }

  void readControl() {
    char buffer[4096];
    for (;;) {
      const auto n = ::read(kControlFd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) {
        workerGone();
        return;
      }
      inbox_.append(buffer, static_cast<std::size_t>(n));
    }
    handleMessages();
  }

  void handleMessages() {
    try {
      while (auto message = inbox_.next()) {
        Reader r(message->second);
        switch (message->first) {
          case Type::Lease:
            if (phase_ != Phase::Killing) renew(r.i64());
            break;
          case Type::Stop:
            stop(r.i64(), Cause::Stopped);
            break;
          case Type::Kill:
            killAll(Cause::Killed);
            break;
          default:
            throw ProtocolError("unexpected message type");
        }
      }
    } catch (const ProtocolError& e) {
      note("bad message from the worker (%s): treating it as gone", e.what());
      workerGone();
    }
  }

  void readSignals() {
    signalfd_siginfo info{};
    while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      switch (info.ssi_signo) {
        case SIGCHLD:
          break;  // reaped below, whichever child it was
        case SIGUSR2:
          // The parent-death signal follows the thread that forked us: only
          // the parent process's end counts. As a namespace's init we have
          // no parent in it, and the kernel's signal comes from outside (pid
          // 0 here), never from the topology.
          if (in_namespace_ ? info.ssi_pid == 0 : ::getppid() != parent_) workerGone();
          break;
        default:
          stop(spec_.grace_ms, Cause::Signalled);
      }
    }
    reap();
  }

  void reap() {
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid < 0 && errno == ECHILD) no_children_ = true;
      if (pid <= 0) return;
      // In a namespace, what the kill rounds ended comes back to us, its
      // init, to reap: that is how many it left behind.
      if (in_namespace_ && phase_ == Phase::Killing && pid != main_) left_behind_.insert(pid);
      if (pid == main_) {
        main_status_ = status;
        // Whatever it left behind ends with it.
        killAll(phase_ == Phase::Running ? Cause::Exited : cause_);
      }
    }
  }

  // Signals every process of the tree; returns those it reached, as far as
  // it can tell. As the init of the topology's PID namespace, every process
  // in it is the tree: kill(-1) reaches them all (and never us), so none
  // needs naming. Else the tree is what /proc's parent links lead to.
  std::vector<pid_t> signalTree(int signal_number) {
    if (in_namespace_) {
      ::kill(-1, signal_number);
      return {};
    }
    return signalDescendants(::getpid(), signal_number);
  }

  // Whether nothing of the tree lives: in a namespace, once we have no child
  // left to reap (every orphan in it is ours).
  bool treeGone() {
    if (in_namespace_) return no_children_;
    return liveDescendants(::getpid()).empty();
  }

  static void drainTimer(int fd) {
    std::uint64_t expirations;
    [[maybe_unused]] auto ignored = ::read(fd, &expirations, sizeof expirations);
  }

  void loop() {
    ::fcntl(kControlFd, F_SETFL, ::fcntl(kControlFd, F_GETFL) | O_NONBLOCK);
    handleMessages();  // what came with the spec
    for (;;) {
      if (phase_ == Phase::Killing) {
        for (const pid_t pid : signalTree(SIGKILL)) {
          if (pid != main_) left_behind_.insert(pid);
        }
        reap();
        if (main_status_ && treeGone()) return;
      }
      pollfd polled[4] = {{signal_fd_, POLLIN, 0},
                          {lease_fd_, POLLIN, 0},
                          {grace_fd_, POLLIN, 0},
                          {control_open_ ? kControlFd : -1, POLLIN, 0}};
      ::poll(polled, 4, phase_ == Phase::Killing ? kKillRoundMs : -1);
      if (polled[0].revents) readSignals();
      if (polled[1].revents) {
        drainTimer(lease_fd_);
        if (phase_ != Phase::Killing) {
          note(
              "the worker's lease ran out without renewal: killing topology pid %d and its "
              "descendants",
              main_visible_);
          killAll(Cause::LeaseLapsed);
        }
      }
      if (polled[2].revents) {
        drainTimer(grace_fd_);
        killAll(cause_);
      }
      if (polled[3].revents) readControl();
    }
  }

  const pid_t parent_;
  const bool in_namespace_ = ::getpid() == 1;
  bool no_children_ = false;
  Spec spec_;
  pid_t main_ = -1;          // as we name it: in a namespace, not the pid /proc shows
  pid_t main_visible_ = -1;  // as /proc and the operator name it
  std::optional<int> main_status_;
  Phase phase_ = Phase::Running;
  Cause cause_ = Cause::Exited;
  std::set<pid_t> left_behind_;
  bool control_open_ = true;
  Inbox inbox_;
  int signal_fd_ = -1;
  int lease_fd_ = -1;
  int grace_fd_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  // Before anything else: the topology runs as our user, and must not read
  // or trace us through /proc.
  ::prctl(PR_SET_DUMPABLE, 0);
  pid_t parent = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--parent") == 0) parent = static_cast<pid_t>(std::atoi(argv[i + 1]));
    // --topology UUID is only there for ps and top.
  }
  struct stat control {};
  if (parent <= 0 || ::fstat(kControlFd, &control) != 0 || !S_ISSOCK(control.st_mode) ||
      ::fcntl(kStderrFd, F_GETFD) < 0 || ::fcntl(kStdoutFd, F_GETFD) < 0) {
    std::fprintf(stderr,
                 "qtopology-supervisor: started by qtopology-worker for each topology; not to be "
                 "run by hand\n");
    return 2;
  }
  ::fcntl(kControlFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kStderrFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kStdoutFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kNodeChannelFd, F_SETFD, FD_CLOEXEC);  // when there is one
  std::signal(SIGPIPE, SIG_IGN);
  ::sigprocmask(SIG_BLOCK, &handledSignals(), nullptr);
  // Out of the worker's process group: a Ctrl-C at the worker's terminal
  // reaches the worker, which stops its topologies gracefully, and not us.
  ::setpgid(0, 0);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::prctl(PR_SET_PDEATHSIG, SIGUSR2);
  Inbox inbox;
  auto spec = readSpec(inbox);
  if (!spec) return 1;  // the worker removes the config file when start() fails
  if (spec->node_channel != (::fcntl(kNodeChannelFd, F_GETFD) >= 0)) {
    note("the spec and descriptor %d disagree about a Node channel", kNodeChannelFd);
    return 1;
  }
  // It died before PR_SET_PDEATHSIG could tell us. (In a PID namespace of
  // our own the parent has no pid here: its socket tells instead.)
  if (::getpid() != 1 && ::getppid() != parent) {
    std::remove(spec->config_file.c_str());
    return 0;
  }
  return Supervisor(parent, std::move(*spec), std::move(inbox)).run();
}
