#include "node_child.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace qtopology::worker {
namespace {

namespace ipc = node_ipc;

// A flooding child is read at most this much per round, so that its
// siblings are not starved.
constexpr std::size_t kReadPerRound = 256 * 1024;

// A positive number of milliseconds at general.wrapper.NAME, else `fallback`.
std::chrono::milliseconds wrapperSetting(const Json& config, const char* name,
                                         std::chrono::milliseconds fallback) {
  const Json* general =
      config.is_object() && config.contains("general") ? &config["general"] : nullptr;
  if (!general || !general->is_object() || !general->contains("wrapper")) return fallback;
  const Json& wrapper = (*general)["wrapper"];
  if (!wrapper.is_object() || !wrapper.contains(name) || !wrapper[name].is_number()) {
    return fallback;
  }
  const double value = wrapper[name].get<double>();
  // Within a day: a larger value is as good as none, and must not overflow.
  if (!(value >= 1) || value > 86400000.0) return fallback;
  return std::chrono::milliseconds(static_cast<long long>(value));
}

}  // namespace

NodeChild::NodeChild(int channel_fd) : fd_(channel_fd) {}

NodeChild::~NodeChild() { close(); }

void NodeChild::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  open_ = false;
}

void NodeChild::initSent(const Json& config, Clock::time_point now) {
  ping_interval_ = wrapperSetting(config, "ping_parent_interval", ping_interval_);
  ping_timeout_ = wrapperSetting(config, "ping_parent_timeout", ping_timeout_);
  last_pong_ = now;
  next_ping_ = now + ping_interval_;
}

void NodeChild::failWith(std::string error) {
  if (!error_) error_ = std::move(error);
}

// A child that breaks the protocol gets its error here, and no more is read
// from it.
std::vector<ipc::ChildMessage> NodeChild::read() {
  std::vector<ipc::ChildMessage> messages;
  char buffer[65536];
  std::size_t taken = 0;
  while (open_ && taken < kReadPerRound) {
    const auto n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      open_ = false;  // the descriptor closes in close(), once stop() no longer uses it
      break;
    }
    taken += static_cast<std::size_t>(n);
    inbox_.append(buffer, static_cast<std::size_t>(n));
    try {
      while (auto message = inbox_.next()) messages.push_back(std::move(*message));
    } catch (const ipc::ChannelError& e) {
      failWith(std::string("broke qtopology's IPC protocol: ") + e.what());
      broke_protocol_ = true;
      open_ = false;
      return messages;
    }
  }
  return messages;
}

NodeChild::Tended NodeChild::tend(Clock::time_point now) {
  Tended tended;
  bool kill = false;
  for (const auto& message : read()) {
    switch (static_cast<ipc::ChildCode>(message.code)) {
      case ipc::ChildCode::kInitDone:
        if (message.error) {
          failWith(*message.error);
          kill = true;  // qtopology's child exits by itself; this makes sure
        } else {
          tended.replies.push_back(ipc::encode(ipc::ParentCode::kRun));
        }
        break;
      case ipc::ChildCode::kRunDone:
        if (message.error) {
          failWith(*message.error);
          kill = true;
        } else {
          tended.runs = true;
        }
        break;
      case ipc::ChildCode::kPong:
        last_pong_ = now;
        break;
      case ipc::ChildCode::kError:
      case ipc::ChildCode::kShutdownDone:
      case ipc::ChildCode::kPauseDone:
        // The child exits right after it reports an error.
        if (message.error) failWith(*message.error);
        break;
      default:
        break;  // Node's internal messages, or codes of a later protocol
    }
  }
  if (broke_protocol_) kill = true;
  if (open_ && now >= next_ping_) {
    next_ping_ = now + ping_interval_;
    if (now - last_pong_ < ping_timeout_) {
      tended.replies.push_back(ipc::encode(ipc::ParentCode::kPing));
    } else if (!killed_) {
      failWith("no answer to pings for " + std::to_string(ping_timeout_.count()) +
               " ms (general.wrapper.ping_parent_timeout): killed");
      kill = true;
    }
  }
  tended.kill = kill && !killed_;
  if (tended.kill) killed_ = true;
  return tended;
}

}  // namespace qtopology::worker
