// What execve needs for a child process: its environment and the
// null-terminated pointer arrays.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace qtopology::apps {

// This process's environment with `set` added or replaced and the names in
// `unset` removed, as "NAME=value" entries.
std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& set,
                                          const std::vector<std::string>& unset = {});

// argv or envp for execve: pointers into `strings`, then a null pointer.
// Valid as long as `strings` lives unchanged.
std::vector<char*> nullTerminated(std::vector<std::string>& strings);

}  // namespace qtopology::apps
