// qtopology 2.3.2's protocol between a worker and the child process that
// runs one Node topology (its TopologyLocalWrapper), over Node's IPC channel
// with JSON serialization: each message is one JSON object {cmd, data} and a
// newline.
//
// Parent to child: init (data: the topology's config, general.uuid set), run,
// ping, shutdown. Child to parent: a response to each (data.err when it
// failed), and error (data.err) for a failure of the running topology; the
// child exits right after it reports an error. Errors travel as serialized
// JavaScript errors: {name, message, stack}.
//
// Whatever the child sends is hostile input: a message is bounded in bytes
// and in JSON depth before it is parsed, and its text reaches a log only
// escaped.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::worker::node_ipc {

enum class ParentCode { kInit = 0, kRun = 1, kPause = 2, kPing = 3, kShutdown = 4 };
enum class ChildCode {
  kInitDone = 0,
  kRunDone = 1,
  kPauseDone = 2,
  kPong = 3,
  kShutdownDone = 4,
  kError = 5
};

// A message longer than this (without its newline) ends the child: no
// response or error of the protocol comes near it.
constexpr std::size_t kMaxMessageBytes = 1 << 20;
// An error text is cut to this many bytes, the storage's error column.
constexpr std::size_t kMaxErrorBytes = 1000;

// The line to send, newline included.
std::string encode(ParentCode code, const Json& data = Json::object());

struct ChildMessage {
  // Codes outside ChildCode's range are kept as they are: Node's own
  // internal messages ({"cmd": "NODE_..."}) come as -1.
  int code = -1;
  // data.err's message, when the message carries an error.
  std::optional<std::string> error;
};

// The child broke the framing or sent what is not a JSON object. what()
// never holds the child's bytes.
class ChannelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Splits the bytes from the child into messages.
class ChildMessageReader {
 public:
  void append(const char* data, std::size_t size);
  // The next whole message, nullopt until one has arrived. Throws
  // ChannelError for a message over kMaxMessageBytes or past the JSON
  // limits, or one that is not a JSON object.
  std::optional<ChildMessage> next();

 private:
  std::string buffer_;
  std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no newline
};

}  // namespace qtopology::worker::node_ipc
