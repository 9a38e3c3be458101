#include "node_runtime.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <qtopology/bounded_json.hpp>
#include <qtopology/text.hpp>

#include "child_environment.hpp"
#include "spawn.hpp"

namespace qtopology::worker {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxProbeOutput = 64 * 1024;
constexpr const char* kWrapperPath = "built/distributed/topology_local_wrapper_main.js";

// Printed by node as one JSON object: the package's folder and version. The
// folder to resolve from, when given, is argv[1], never part of the script.
constexpr const char* kProbeScript =
    "const path = require('path');"
    "const from = process.argv[1];"
    "const file = require.resolve('qtopology/package.json',"
    "  from ? {paths: [path.resolve(from)]} : undefined);"
    "process.stdout.write(JSON.stringify({dir: path.dirname(file),"
    "  version: String(require(file).version)}));";

bool isExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

std::string fixText(const NodeRuntimeOptions& options) {
  return options.node_modules.empty()
             ? "install it with `npm install qtopology@2.3.2` in the worker's working directory, "
               "or pass --node-modules DIR"
             : "install it with `npm install qtopology@2.3.2` so that " + options.node_modules +
                   " holds node_modules/qtopology, or fix --node-modules";
}

struct ProbeResult {
  int status = -1;
  std::string out;
  std::string failure;  // could not run, or ran out of time
};

ProbeResult runProbe(const std::string& node, const std::string& from,
                     const apps::EnvironmentRules& environment) {
  ProbeResult result;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    result.failure = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int null_out = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  Spawned spawned;
  if (null_in < 0 || null_out < 0) {
    spawned.error = errno;
  } else {
    ChildSpec child;
    child.program = node;
    child.argv = {node, "-e", kProbeScript, from};
    child.envp = apps::childEnvironment({}, environment);
    child.fds = {null_in, out[1], null_out};
    spawned = spawn(child);
  }
  for (const int fd : {null_in, null_out, out[1]}) {
    if (fd >= 0) ::close(fd);
  }
  if (spawned.pid < 0) {
    ::close(out[0]);
    result.failure = "cannot run " + node + ": " + std::strerror(spawned.error);
    return result;
  }
  const pid_t pid = spawned.pid;
  const auto deadline = std::chrono::steady_clock::now() + kProbeTimeout;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      result.failure =
          node + " did not answer within " + std::to_string(kProbeTimeout.count()) + " s";
      break;
    }
    pollfd polled{out[0], POLLIN, 0};
    if (::poll(&polled, 1, static_cast<int>(left.count())) <= 0) continue;
    const auto n = ::read(out[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (result.out.size() < kMaxProbeOutput) result.out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = status;
  return result;
}

}  // namespace

std::string findProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return isExecutableFile(program) ? program : "";
  const char* path = std::getenv("PATH");
  const std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    auto end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end == begin ? "." : dirs.substr(begin, end - begin);
    if (const std::string candidate = dir + "/" + program; isExecutableFile(candidate)) {
      return candidate;
    }
    begin = end + 1;
  }
  return "";
}

NodeRuntime findNodeRuntime(const NodeRuntimeOptions& options) {
  NodeRuntime runtime;
  runtime.node = findProgram(options.node);
  if (runtime.node.empty()) {
    runtime.problem = "cannot run Node topologies: no node program '" + options.node + "' " +
                      (options.node.find('/') == std::string::npos ? "in PATH" : "there") +
                      "; install Node.js (18 or later) or pass --node PATH";
    return runtime;
  }
  const auto probe = runProbe(runtime.node, options.node_modules, options.environment);
  if (!probe.failure.empty()) {
    runtime.problem = "cannot run Node topologies: " + probe.failure + "; check --node";
    return runtime;
  }
  if (!WIFEXITED(probe.status) || WEXITSTATUS(probe.status) != 0) {
    runtime.problem = "cannot run Node topologies: " + runtime.node +
                      " cannot find the qtopology package; " + fixText(options);
    return runtime;
  }
  try {
    const Json found = parseBoundedJson(probe.out, {4, 16});
    const std::string dir = found.at("dir").get<std::string>();
    runtime.version = found.at("version").get<std::string>();
    runtime.wrapper = dir + "/" + kWrapperPath;
  } catch (const std::exception&) {
    runtime.problem = "cannot run Node topologies: " + runtime.node +
                      " gave no answer about the qtopology package; check --node";
    return runtime;
  }
  if (runtime.version.rfind("2.", 0) != 0) {
    runtime.problem = "cannot run Node topologies: qtopology " + escapeControl(runtime.version) +
                      " found, but this worker speaks the child protocol of qtopology 2.x; " +
                      fixText(options);
  } else if (::access(runtime.wrapper.c_str(), R_OK) != 0) {
    runtime.problem = "cannot run Node topologies: " + escapeControl(runtime.wrapper) +
                      " is missing; " + fixText(options);
  }
  return runtime;
}

}  // namespace qtopology::worker
