// A host's own check of a topology before register writes it: a program
// that reads the config on stdin and exits 0 to accept it, non-zero with a
// message (on stderr, else stdout) to refuse it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace qtopology::cli {

// `command` split at spaces and tabs: the program (looked up on PATH when
// it has no '/') and its arguments. No shell: no quoting, no variables, no
// globs. Throws CommandError when it holds no program.
std::vector<std::string> validatorArgv(const std::string& command);

// Runs the validator with `input` on its standard input, in this process's
// environment without its credentials (apps::childEnvironment: no database
// URL, password file or dashboard token), and none of this process's other
// open descriptors. Returns nullopt when it exits 0 within `timeout`; else
// why it refused, one line: its stderr (else stdout), cut to 500 bytes and
// control characters escaped, after "exit code N", "killed by signal N" or
// "did not finish within S s" (it is then killed). Throws CommandError when
// it cannot be started.
std::optional<std::string> runValidator(const std::vector<std::string>& argv,
                                        const std::string& input,
                                        std::chrono::milliseconds timeout);

}  // namespace qtopology::cli
