#include "process_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

namespace qtopology::worker {
namespace {

struct Stat {
  pid_t ppid = -1;
  char state = '?';
};

// From /proc/PID/stat: "pid (comm) state ppid ...", where comm may hold
// spaces and parentheses, so the fields are read after its last ')'.
bool readStat(pid_t pid, Stat& out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[512];
  const auto n = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  if (n <= 0) return false;
  buffer[n] = '\0';
  std::string text(buffer, static_cast<std::size_t>(n));
  const auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 4 > text.size()) return false;
  out.state = text[paren + 2];
  out.ppid = static_cast<pid_t>(std::strtol(text.c_str() + paren + 4, nullptr, 10));
  return true;
}

std::map<pid_t, Stat> scan() {
  std::map<pid_t, Stat> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (const dirent* entry = ::readdir(proc)) {
    if (!std::isdigit(static_cast<unsigned char>(entry->d_name[0]))) continue;
    const auto pid = static_cast<pid_t>(std::strtol(entry->d_name, nullptr, 10));
    Stat stat;
    if (readStat(pid, stat)) out.emplace(pid, stat);
  }
  ::closedir(proc);
  return out;
}

bool live(const Stat& stat) { return stat.state != 'Z' && stat.state != 'X'; }

// Every descendant, zombies included (a zombie's children are alive).
std::set<pid_t> descendants(pid_t root, const std::map<pid_t, Stat>& processes) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& [pid, stat] : processes) children.emplace(stat.ppid, pid);
  std::set<pid_t> out;
  std::vector<pid_t> pending{root};
  while (!pending.empty()) {
    const pid_t parent = pending.back();
    pending.pop_back();
    const auto [begin, end] = children.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      if (out.insert(it->second).second) pending.push_back(it->second);
    }
  }
  return out;
}

}  // namespace

std::vector<pid_t> liveDescendants(pid_t root) {
  const auto processes = scan();
  std::vector<pid_t> out;
  for (const pid_t pid : descendants(root, processes)) {
    if (live(processes.at(pid))) out.push_back(pid);
  }
  return out;
}

std::vector<pid_t> signalDescendants(pid_t root, int signal_number) {
  const auto processes = scan();
  const auto tree = descendants(root, processes);
  std::vector<pid_t> reached;
  for (const pid_t pid : tree) {
    if (!live(processes.at(pid))) continue;
    const auto pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) continue;  // gone already
    // The pidfd pins one process: if the pid now names another, its parent
    // is no longer in the tree (or it is a new child of the tree, ours too).
    Stat now;
    if (readStat(pid, now) && (now.ppid == root || tree.count(now.ppid) > 0) &&
        ::syscall(SYS_pidfd_send_signal, pidfd, signal_number, nullptr, 0) == 0) {
      reached.push_back(pid);
    }
    ::close(pidfd);
  }
  return reached;
}

char processState(pid_t pid) {
  Stat stat;
  return readStat(pid, stat) ? stat.state : '\0';
}

}  // namespace qtopology::worker
