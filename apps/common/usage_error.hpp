// What both programs of apps/ throw for a wrong command line: they exit with
// code 2 for it, apart from the 1 of a failed run.
#pragma once

#include <stdexcept>

namespace qtopology::apps {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace qtopology::apps
