// The runner's side of one Node topology's IPC channel (node_channel.hpp):
// what its child said, the answers and pings it is owed, and when it has to
// be killed. Owned by the runner's reaper thread; sending is left to the
// runner, which serializes it with stop()'s shutdown message.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "node_channel.hpp"

namespace qtopology::worker {

class NodeChild {
 public:
  using Clock = std::chrono::steady_clock;

  // What one tend() found.
  struct Tended {
    std::vector<std::string> replies;  // to send, in order, while the channel is open
    bool runs = false;                 // the child reported that its topology runs
    // The child is to be killed, for error(); true once per child.
    bool kill = false;
  };

  // Takes `channel_fd`, the runner's end, and closes it.
  explicit NodeChild(int channel_fd);
  ~NodeChild();
  NodeChild(const NodeChild&) = delete;
  NodeChild& operator=(const NodeChild&) = delete;

  int fd() const { return fd_; }
  // False once the child's end closed, or it broke the protocol.
  bool open() const { return open_; }

  // The init message went out at `now`, with `config`: the pings start, at
  // general.wrapper.ping_parent_interval ms (3000), the child killed after
  // ping_parent_timeout ms (30000) without an answer.
  void initSent(const Json& config, Clock::time_point now);

  // Reads what the child sent, answers it (run after a successful init),
  // and pings it when a ping is due.
  Tended tend(Clock::time_point now);

  // The first error the child reported (or that was found about it): the
  // topology's error text, unless the worker asked it to end.
  const std::optional<std::string>& error() const { return error_; }

  // No more is sent or read.
  void close();

 private:
  std::vector<node_ipc::ChildMessage> read();
  void failWith(std::string error);

  int fd_ = -1;
  bool open_ = true;
  node_ipc::ChildMessageReader inbox_;
  std::optional<std::string> error_;
  bool broke_protocol_ = false;
  bool killed_ = false;
  std::chrono::milliseconds ping_interval_{3000};
  std::chrono::milliseconds ping_timeout_{30000};
  Clock::time_point last_pong_{};
  Clock::time_point next_ping_{};
};

}  // namespace qtopology::worker
