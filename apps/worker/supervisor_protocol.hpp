// What qtopology-worker (ProcessRunner) and qtopology-supervisor say to each
// other over the stream socket between them (the supervisor's descriptor 3).
// Both are built from the same sources and installed together: the format
// has no version.
//
// A message is one type byte, a 32-bit length and that many bytes of payload
// (integers in the host's byte order, strings as a 32-bit length and bytes).
//
// Worker to supervisor:
//   Spec    first and once: what to run (below).
//   Lease   int64 deadline, nanoseconds of CLOCK_MONOTONIC (std::chrono::
//           steady_clock on Linux): kill the tree once it passes.
//   Stop    int64 grace in milliseconds: SIGTERM to the tree, SIGKILL after.
//   Kill    SIGKILL to the tree.
//   The socket closing (the worker died) counts as Kill.
// Supervisor to worker:
//   Started int32 pid of the topology's process, as /proc names it (in the
//           supervisor's PID namespace it has another).
//   Failed  int32 errno: the topology's program could not be executed.
//   Exited  int32 wait status of the topology's process, uint8 Cause, int32
//           how many other processes of its tree were still alive at the end
//           and killed. Sent once its whole tree is gone and the config file
//           removed; the supervisor exits right after.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace qtopology::worker::supervision {

enum class Type : char {
  Spec = 'C',
  Lease = 'L',
  Stop = 'S',
  Kill = 'K',
  Started = 'P',
  Failed = 'F',
  Exited = 'X',
};

// Why the tree ended.
enum class Cause : std::uint8_t {
  Exited = 0,       // the topology's process ended by itself
  Stopped = 1,      // a Stop
  Killed = 2,       // a Kill
  LeaseLapsed = 3,  // the lease's deadline passed without renewal
  WorkerGone = 4,   // the socket closed, or the supervisor's parent died
  Signalled = 5,    // the supervisor itself got SIGTERM, SIGINT or SIGHUP
};

// No deadline: the supervisor only ends the tree on request or when the
// worker goes away.
constexpr std::int64_t kNoDeadline = 0;

struct Spec {
  std::string program;  // an absolute or relative path, as execve takes it
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=value"
  std::string config_file;        // removed once the tree is gone
  // How long the tree has after SIGTERM when the supervisor itself is
  // asked to end (SIGTERM, SIGINT, SIGHUP), as a Stop would give it.
  std::int64_t grace_ms = 5000;
  std::int64_t lease_deadline_ns = kNoDeadline;
  // The supervisor got a Node IPC channel as its descriptor 6 (a Node
  // topology's): the topology's process gets it as descriptor 3, where
  // NODE_CHANNEL_FD=3 in its envp tells node to look. The supervisor keeps
  // no copy, so the child and the worker see each other's end.
  bool node_channel = false;
};

// The supervisor's descriptor for a Spec's node_channel.
constexpr int kNodeChannelFd = 6;

// Payloads above this are refused: a corrupt stream, not a real message.
constexpr std::uint32_t kMaxPayload = 16u << 20;
constexpr std::size_t kHeaderSize = 5;

// Thrown for a payload that does not decode.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Writer {
 public:
  void i32(std::int32_t value);
  void i64(std::int64_t value);
  void u8(std::uint8_t value);
  void str(const std::string& value);
  // The whole message, header included.
  std::string message(Type type) const;

 private:
  std::string payload_;
};

class Reader {
 public:
  explicit Reader(const std::string& payload) : payload_(payload) {}
  std::int32_t i32();
  std::int64_t i64();
  std::uint8_t u8();
  std::string str();

 private:
  void take(void* out, std::size_t size);
  const std::string& payload_;
  std::size_t at_ = 0;
};

std::string encodeSpec(const Spec& spec);
Spec decodeSpec(const std::string& payload);

// Bytes as they arrive, split into messages.
class Inbox {
 public:
  void append(const char* data, std::size_t size) { buffer_.append(data, size); }
  // The next whole message, nullopt when it has not all arrived. Throws
  // ProtocolError for a length above kMaxPayload.
  std::optional<std::pair<Type, std::string>> next();

 private:
  std::string buffer_;
};

}  // namespace qtopology::worker::supervision
