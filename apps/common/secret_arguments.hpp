// Passwords on a command line are readable by every local user through
// /proc/PID/cmdline: the programs take them out of their own argv as soon as
// they have parsed it, and read them from a file instead when told to.
#pragma once

#include <initializer_list>
#include <string_view>

#include <qtopology/mysql_options.hpp>

namespace qtopology::apps {

// Overwrites, in place, the password of every mysql:// URL among the
// arguments (as "--url=URL" or a bare URL), with '*'. What the process had
// parsed stays as it was; /proc/PID/cmdline shows the stars from then on.
void hidePasswordsInArguments(int argc, char** argv);

// Overwrites, in place, with '*', the value of each of `options` among the
// arguments ("--token VALUE" or "--token=VALUE"), up to a "--" that ends
// the options. As above, /proc/PID/cmdline shows the stars from then on.
void hideOptionValues(int argc, char** argv, std::initializer_list<std::string_view> options);

// With QTOPOLOGY_MYSQL_PASSWORD_FILE set and no password in the options
// yet, reads it from that file (see MySqlOptions::readPasswordFile). Throws
// InvalidArgument as that does.
void applyPasswordFileVariable(MySqlOptions& options);

}  // namespace qtopology::apps
