#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace qtopology::testing {
namespace {

// Ours, edited as `env` says: "NAME=value" entries.
std::vector<std::string> environmentFor(const Environment& env) {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; *entry; ++entry) {
    const std::string text = *entry;
    const auto equals = text.find('=');
    variables[text.substr(0, equals)] = equals == std::string::npos ? "" : text.substr(equals + 1);
  }
  for (const auto& name : env.unset) variables.erase(name);
  for (const auto& [name, value] : env.set) variables[name] = value;
  std::vector<std::string> entries;
  for (const auto& [name, value] : variables) entries.push_back(name + "=" + value);
  return entries;
}

// argv and envp: pointers into `strings`, then a null pointer.
std::vector<char*> pointersTo(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::string temporaryFile(const std::string& content) {
  char path[] = "/tmp/qtopology-test-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  if (!content.empty() && ::write(fd, content.data(), content.size()) < 0) {
    ::close(fd);
    throw std::runtime_error("writing a temporary file failed");
  }
  ::close(fd);
  return path;
}

// stdin, stdout and stderr of the child are files, so a chatty child can
// never block on a full pipe while we wait for it.
pid_t spawn(const std::string& program, const std::vector<std::string>& args,
            const Environment& env, const std::string& in, const std::string& out,
            const std::string& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  if (!out.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (err == out) {
    if (!out.empty()) posix_spawn_file_actions_adddup2(&actions, 1, 2);  // one log, in order
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto argv = pointersTo(argv_strings);
  auto env_strings = environmentFor(env);
  auto envp = pointersTo(env_strings);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
  return pid;
}

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

}  // namespace

std::string readFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

namespace {

// The fields of /proc/PID/stat after the command, which may hold spaces and
// parentheses: state first, then the parent's pid.
std::string statAfterCommand(pid_t pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  const auto end = stat.rfind(") ");
  return end == std::string::npos ? "" : stat.substr(end + 2);
}

}  // namespace

bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

bool processAlive(pid_t pid) {
  const std::string fields = statAfterCommand(pid);
  return !fields.empty() && fields[0] != 'Z' && fields[0] != 'X';
}

pid_t parentOf(pid_t pid) {
  const std::string fields = statAfterCommand(pid);
  if (fields.size() < 3) return -1;
  return static_cast<pid_t>(std::stol(fields.substr(2)));
}

std::vector<pid_t> processesWithEnvironment(const std::vector<std::string>& entries) {
  std::vector<pid_t> out;
  for (const auto& dir : std::filesystem::directory_iterator("/proc")) {
    const std::string name = dir.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string environment = readFile(dir.path() / "environ");
    std::size_t matched = 0;
    for (const auto& entry : entries) {
      const std::string needle = std::string(1, '\0') + entry + '\0';
      if (('\0' + environment).find(needle) != std::string::npos) ++matched;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (matched == entries.size() && processAlive(pid)) out.push_back(pid);
  }
  return out;
}

RunResult run(const std::string& program, const std::vector<std::string>& args,
              const std::string& input, const Environment& env) {
  const std::string in = temporaryFile(input);
  const std::string out = temporaryFile("");
  const std::string err = temporaryFile("");
  const pid_t pid = spawn(program, args, env, in, out, err);
  int status = 0;
  ::waitpid(pid, &status, 0);
  RunResult result{exitCodeOf(status), readFile(out), readFile(err)};
  for (const auto& path : {in, out, err}) std::remove(path.c_str());
  return result;
}

Child::Child(const std::string& program, const std::vector<std::string>& args,
             const std::string& log_file, const Environment& env) {
  pid_ = spawn(program, args, env, "/dev/null", log_file, log_file);
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exit_code_(std::exchange(other.exit_code_, 0)) {}

Child::~Child() {
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void Child::signal(int signal_number) {
  if (!exit_code_) ::kill(pid_, signal_number);
}

bool Child::running() { return !wait(std::chrono::milliseconds(0)); }

int Child::wait() {
  int status = 0;
  if (!exit_code_ && ::waitpid(pid_, &status, 0) == pid_) exit_code_ = exitCodeOf(status);
  return exit_code_.value_or(-1);
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = exitCodeOf(status);
    } else if (std::chrono::steady_clock::now() >= deadline) {
      break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return exit_code_;
}

}  // namespace qtopology::testing
