// Where qtopology-worker finds what Node topologies run on: the node program
// and qtopology's child wrapper (built/distributed/
// topology_local_wrapper_main.js of the qtopology package), found once at
// start. Node's own module resolution decides which qtopology: from the
// worker's working directory, as `require("qtopology")` there would, or from
// --node-modules DIR.
#pragma once

#include <string>

#include "child_environment.hpp"

namespace qtopology::worker {

struct NodeRuntimeOptions {
  std::string node = "node";  // a path, or a name looked up in PATH
  std::string node_modules;   // empty: resolve from the working directory
  // What the probe gets of the worker's environment, as topologies do.
  apps::EnvironmentRules environment;
};

struct NodeRuntime {
  std::string node;     // the node program's file
  std::string wrapper;  // topology_local_wrapper_main.js, absolute
  std::string version;  // of the qtopology package
  // Non-empty: Node topologies cannot run here, and this says why and what
  // to do; every Node topology is refused with it.
  std::string problem;
  bool available() const { return problem.empty(); }
};

// Runs `node -e` once (at most 10 s) to resolve qtopology/package.json.
// Never throws: what goes wrong is in `problem`.
NodeRuntime findNodeRuntime(const NodeRuntimeOptions& options);

// The file of `program` as execve takes it: itself when it holds a '/',
// else the first executable of that name in PATH; empty when none.
std::string findProgram(const std::string& program);

}  // namespace qtopology::worker
