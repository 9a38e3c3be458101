// Starting a program as a child process with exactly the descriptors,
// signal state and environment it is meant to have: the one fork-and-exec
// path, used by the worker for its supervisors and by a supervisor for its
// topology.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace qtopology::worker {

struct ChildSpec {
  std::string program;  // a path, as execve takes it (no PATH search)
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=value"; the whole environment
  // fds[i] becomes the child's descriptor i; every other descriptor of the
  // caller is closed in the child, close-on-exec or not (database sockets a
  // library opened without O_CLOEXEC included).
  std::vector<int> fds;
  // A session of its own (and so a process group of its own): no
  // controlling terminal, none it can take by opening one.
  bool own_session = false;
  // The child is the first process (the init) of a new PID namespace;
  // with `new_user_namespace`, inside a new user namespace (what a caller
  // that is not root needs for one). That user namespace maps no ids: inside
  // it every id shows as the overflow id (65534), while files and signals
  // still see the caller's real uid and gid, and nothing in it has a
  // capability outside it. (A mapping must be written from a dumpable
  // process; a copy of a non-dumpable caller, made dumpable for that, would
  // expose the caller's memory and environment for that moment.)
  bool new_pid_namespace = false;
  bool new_user_namespace = false;
  // Non-zero: the child gets this signal when the thread that spawned it
  // ends, and does not run at all if the caller ended before it could ask.
  int parent_death_signal = 0;
};

// The child's pid, or why there is none: `error` is the errno of the step
// that failed, and `exec_failed` whether that was the exec (the program
// cannot be run) rather than the fork.
struct Spawned {
  pid_t pid = -1;  // as the caller names it
  // As /proc names it: in a new PID namespace (this one's, or the caller's
  // own) the pid the caller has differs from the one /proc shows.
  pid_t visible_pid = -1;
  int error = 0;
  bool exec_failed = false;
};

// Forks, sets the child up and executes the program; returns once the exec
// has happened or failed (a failed child is reaped). Between fork and exec
// the child makes async-signal-safe calls only: the caller may have other
// threads, one of which may hold the allocator's lock. The child starts
// with every signal's disposition at its default and none blocked.
Spawned spawn(const ChildSpec& spec);

// Whether this process can start a child with `spec`'s namespaces (the
// kernel, a container or a security module may refuse): one child that
// exits at once.
bool canCreateNamespaces(bool new_user_namespace);

// This process's pid as /proc names it (getpid() inside a PID namespace
// gives the namespace's pid, /proc the host's).
pid_t visiblePid();

}  // namespace qtopology::worker
