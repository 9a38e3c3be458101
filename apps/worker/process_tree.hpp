// A process's descendants as /proc shows them, and signals sent to all of
// them, also to those that left its process group or session. For the
// supervisor, which is the subreaper of its topology's tree: whatever a
// descendant leaves behind reparents to it, so the ppid chains in
// /proc/PID/stat reach every process of the tree.
#pragma once

#include <sys/types.h>

#include <vector>

namespace qtopology::worker {

// The live (not zombie) descendants of `root`, at the moment of the scan.
std::vector<pid_t> liveDescendants(pid_t root);

// Sends `signal_number` to every live descendant of `root`; returns those it
// reached. A pid is signalled through a pidfd opened after the scan and
// checked again to be a descendant, so a pid reused by an unrelated process
// in between is never signalled.
std::vector<pid_t> signalDescendants(pid_t root, int signal_number);

// A process's state letter in /proc/PID/stat ('R', 'S', 'T' stopped, 'Z'
// zombie...); '\0' when it cannot be read (no such process).
char processState(pid_t pid);

}  // namespace qtopology::worker
