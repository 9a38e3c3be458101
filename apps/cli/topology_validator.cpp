#include "topology_validator.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <qtopology/text.hpp>

#include "child_environment.hpp"
#include "command_line.hpp"

namespace qtopology::cli {
namespace {

using Clock = std::chrono::steady_clock;

// What is kept of each output stream; the rest is read and dropped, so a
// chatty validator neither blocks on a full pipe nor fills our memory.
constexpr std::size_t kKept = 4096;
constexpr std::size_t kShown = 500;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};

Pipe makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw CommandError(std::string("cannot run the validator: pipe: ") + std::strerror(errno));
  }
  return {Fd(fds[0]), Fd(fds[1])};
}

// Writing to a validator that exited without reading its input must be an
// EPIPE here, not a SIGPIPE that ends the CLI.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &saved_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

pid_t spawnValidator(const std::vector<std::string>& argv, Pipe& in, Pipe& out, Pipe& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
  // Nothing else of ours: a database socket, a password file.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto environment = apps::childEnvironment({});
  std::vector<char*> env;
  for (const auto& e : environment) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  pid_t pid = -1;
  const int failed = ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0) {
    throw CommandError("cannot run the validator " + escapeControl(argv[0]) + ": " +
                       std::strerror(failed));
  }
  return pid;
}

// Feeds `input` and collects both outputs until they close or the deadline
// passes; false on the deadline.
bool exchange(const std::string& input, Fd& in, Fd& out, Fd& err, std::string& out_text,
              std::string& err_text, Clock::time_point deadline) {
  std::size_t written = 0;
  if (input.empty()) in.reset();
  if (in.get() >= 0) ::fcntl(in.get(), F_SETFL, ::fcntl(in.get(), F_GETFL) | O_NONBLOCK);
  while (out.get() >= 0 || err.get() >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[3] = {{in.get(), POLLOUT, 0}, {out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
    if (::poll(fds, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    if (in.get() >= 0 && fds[0].revents != 0) {
      const auto n = ::write(in.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      // Done, or the validator closed its end (EPIPE): it read what it wanted.
      if (written == input.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) in.reset();
    }
    std::pair<Fd*, std::string*> streams[] = {{&out, &out_text}, {&err, &err_text}};
    for (int i = 0; i < 2; ++i) {
      auto& [fd, text] = streams[i];
      if (fd->get() < 0 || fds[i + 1].revents == 0) continue;
      char buffer[4096];
      const auto n = ::read(fd->get(), buffer, sizeof buffer);
      if (n > 0) {
        text->append(buffer,
                     std::min(static_cast<std::size_t>(n), kKept - std::min(kKept, text->size())));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        fd->reset();
      }
    }
  }
  return true;
}

// Whether the child ended by the deadline (it may have closed its outputs
// and still run).
bool reaped(pid_t pid, int& status, Clock::time_point deadline) {
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return true;
    if (done < 0 && errno != EINTR) {
      // Not ours to wait for any more (nothing else in the CLI reaps): no
      // verdict, so a refusal rather than an acceptance.
      status = 1 << 8;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    ::usleep(10000);
  }
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::string shown(const std::string& out_text, const std::string& err_text) {
  std::string message = trimmed(err_text);
  if (message.empty()) message = trimmed(out_text);
  if (message.empty()) return "(no message)";
  const bool cut = message.size() > kShown;
  if (cut) message.resize(kShown);
  return escapeControl(message) + (cut ? "..." : "");
}

}  // namespace

std::vector<std::string> validatorArgv(const std::string& command) {
  std::vector<std::string> argv;
  std::size_t at = 0;
  while ((at = command.find_first_not_of(" \t", at)) != std::string::npos) {
    const auto end = command.find_first_of(" \t", at);
    argv.push_back(command.substr(at, end == std::string::npos ? end : end - at));
    at = end;
  }
  if (argv.empty()) throw CommandError("--validator names no program");
  return argv;
}

std::optional<std::string> runValidator(const std::vector<std::string>& argv,
                                        const std::string& input,
                                        std::chrono::milliseconds timeout) {
  const IgnoreSigpipe ignore_sigpipe;
  Pipe in = makePipe(), out = makePipe(), err = makePipe();
  const pid_t pid = spawnValidator(argv, in, out, err);
  in.read.reset();
  out.write.reset();
  err.write.reset();

  std::string out_text, err_text;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  const bool finished =
      exchange(input, in.write, out.read, err.read, out_text, err_text, deadline) &&
      reaped(pid, status, deadline);
  if (!finished) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  const std::string message = shown(out_text, err_text);
  if (!finished) {
    return "did not finish within " + std::to_string(timeout.count() / 1000) + " s: " + message;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + ": " + message;
  return "exit code " + std::to_string(WEXITSTATUS(status)) + ": " + message;
}

}  // namespace qtopology::cli
