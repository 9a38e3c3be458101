#include "topology_processes.hpp"

#include "process.hpp"

#include <dirent.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace qtopology::testing {
namespace {

// The NUL-separated entries of /proc/<pid>/<file>; empty when unreadable
// (the process is gone, or belongs to someone else).
std::vector<std::string> procEntries(const std::string& pid, const char* file) {
  std::ifstream in("/proc/" + pid + "/" + file, std::ios::binary);
  std::vector<std::string> out;
  std::string entry;
  while (std::getline(in, entry, '\0')) out.push_back(entry);
  return out;
}

// The topology a process runs, or "" when none of ours.
std::string topologyOf(const std::string& pid, const std::set<std::string>& uuids) {
  static const std::string kEnvPrefix = "QTOPOLOGY_UUID=";
  for (const auto& entry : procEntries(pid, "environ")) {
    if (entry.rfind(kEnvPrefix, 0) == 0) {
      const auto uuid = entry.substr(kEnvPrefix.size());
      if (uuids.count(uuid)) return uuid;
    }
  }
  for (const auto& arg : procEntries(pid, "cmdline")) {
    if (arg.rfind("uuid:", 0) == 0 && uuids.count(arg.substr(5))) return arg.substr(5);
  }
  return "";
}

}  // namespace

std::map<std::string, std::vector<pid_t>> liveTopologyProcesses(
    const std::set<std::string>& uuids) {
  std::map<std::string, std::vector<pid_t>> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (const dirent* entry = ::readdir(proc)) {
    const std::string pid = entry->d_name;
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    const auto uuid = topologyOf(pid, uuids);
    if (uuid.empty()) continue;
    const pid_t number = static_cast<pid_t>(std::stol(pid));
    if (processAlive(number)) out[uuid].push_back(number);
  }
  ::closedir(proc);
  return out;
}

ProcessSampler::ProcessSampler(std::set<std::string> uuids, std::chrono::milliseconds period)
    : uuids_(std::move(uuids)), period_(period), thread_([this] { run(); }) {}

ProcessSampler::~ProcessSampler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void ProcessSampler::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  report_ = {};
  overlap_since_.clear();
}

ProcessSampler::Report ProcessSampler::report() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return report_;
}

std::map<std::string, std::vector<pid_t>> ProcessSampler::last() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_;
}

void ProcessSampler::run() {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    const auto sample = liveTopologyProcesses(uuids_);
    const auto now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_ = sample;
      ++report_.samples;
      bool doubled = false;
      for (const auto& uuid : uuids_) {
        const auto found = sample.find(uuid);
        const bool two = found != sample.end() && found->second.size() > 1;
        doubled = doubled || two;
        if (two) {
          overlap_since_.emplace(uuid, now);  // keeps the first sample's time
          if (report_.examples.size() < 20) {
            std::ostringstream text;
            text << uuid << ":";
            for (const pid_t pid : found->second) text << " " << pid;
            report_.examples.push_back(text.str());
          }
        }
        const auto since = overlap_since_.find(uuid);
        if (since != overlap_since_.end()) {
          const auto lasted =
              std::chrono::duration_cast<std::chrono::milliseconds>(now - since->second);
          auto& longest = report_.longest_overlap[uuid];
          longest = std::max(longest, lasted);
          if (!two) overlap_since_.erase(since);
        }
      }
      if (doubled) ++report_.double_samples;
    }
    std::this_thread::sleep_for(period_);
  }
}

}  // namespace qtopology::testing
