// A hostile topology's try at the operator's terminal: TIOCSTI ("type this
// into the terminal") on each descriptor it was given and on /dev/tty (its
// controlling terminal, if it had one). Writes one line per try to the file
// named by argv[1] ("fd1 -1 Inappropriate ioctl for device"), then waits to
// be ended, so that the test can read its /proc/PID/stat.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

std::string attempt(const char* what, int fd) {
  char typed = '#';
  const int rc = fd < 0 ? -1 : ::ioctl(fd, TIOCSTI, &typed);
  const int error_number = fd < 0 ? errno : (rc == 0 ? 0 : errno);
  return std::string(what) + " " + std::to_string(rc) + " " +
         (rc == 0 ? "typed" : std::strerror(error_number)) + "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::string results;
  results += attempt("fd0", 0);
  results += attempt("fd1", 1);
  results += attempt("fd2", 2);
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY);
  results += attempt("tty", tty);
  const std::string partial = std::string(argv[1]) + ".tmp";
  if (FILE* out = std::fopen(partial.c_str(), "w")) {
    std::fputs(results.c_str(), out);
    std::fclose(out);
    std::rename(partial.c_str(), argv[1]);
  }
  for (;;) ::pause();
}
