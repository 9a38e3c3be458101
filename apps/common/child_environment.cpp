#include "child_environment.hpp"

#include <algorithm>

extern char** environ;

namespace qtopology::apps {

std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& set,
                                          const std::vector<std::string>& unset) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    const bool dropped =
        set.count(name) > 0 || std::find(unset.begin(), unset.end(), name) != unset.end();
    if (!dropped) out.push_back(entry);
  }
  for (const auto& [name, value] : set) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> nullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace qtopology::apps
