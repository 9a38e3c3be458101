#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace qtopology::testing {
namespace {

// One proxied connection: the client's socket and ours to the server. A
// silent pair (accepted or caught during a cut) forwards nothing; its
// server side may be closed already.
struct Pair {
  int client = -1;
  int server = -1;
  bool silent = false;
};

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void closePair(Pair& pair) {
  closeFd(pair.client);
  closeFd(pair.server);
}

int connectTo(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) closeFd(fd);
  }
  ::freeaddrinfo(found);
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

// Writes everything; false when the peer is gone.
bool writeAll(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::string target_host, int target_port)
    : target_host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("proxy: socket() failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the kernel picks a free port
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("proxy: cannot listen: ") + std::strerror(errno));
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  if (::pipe(wake_pipe_) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("proxy: pipe() failed");
  }
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  wake();
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void TcpProxy::cut() {
  cut_ = true;
  wake();
}

void TcpProxy::restore() {
  drop_silent_ = true;
  cut_ = false;
  wake();
}

void TcpProxy::wake() {
  const char byte = 0;
  [[maybe_unused]] const auto n = ::write(wake_pipe_[1], &byte, 1);
}

void TcpProxy::run() {
  std::vector<Pair> pairs;
  std::vector<pollfd> fds;
  while (!stopping_) {
    if (cut_) {
      for (auto& pair : pairs) pair.silent = true;
    }
    if (drop_silent_.exchange(false)) {
      for (auto& pair : pairs) {
        if (pair.silent) closePair(pair);
      }
    }
    pairs.erase(
        std::remove_if(pairs.begin(), pairs.end(), [](const Pair& p) { return p.client < 0; }),
        pairs.end());

    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    for (const auto& pair : pairs) {
      // A silent pair is still read, and what arrives is dropped: that is
      // what a partition does to the client's bytes; EOF closes it.
      fds.push_back({pair.client, POLLIN, 0});
      fds.push_back({pair.server, static_cast<short>(pair.server >= 0 ? POLLIN : 0), 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) {
      char buffer[64];
      [[maybe_unused]] const auto n = ::read(wake_pipe_[0], buffer, sizeof buffer);
    }
    // Only the pairs polled above: one accepted below has no poll entry yet.
    const size_t polled = pairs.size();
    if (fds[0].revents & POLLIN) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        ++accepted_;
        const int one = 1;
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Pair pair{client, -1, cut_.load()};
        if (!pair.silent) {
          pair.server = connectTo(target_host_, target_port_);
          if (pair.server < 0) closeFd(pair.client);  // the client sees a closed connection
        }
        if (pair.client >= 0) pairs.push_back(pair);
      }
    }
    for (size_t i = 0; i < polled; ++i) {
      Pair& pair = pairs[i];
      const pollfd& client_poll = fds[2 + 2 * i];
      const pollfd& server_poll = fds[3 + 2 * i];
      char buffer[65536];
      const auto forward = [&](int from, int to) {
        const ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
        if (n <= 0) return false;
        if (pair.silent || cut_) return true;  // dropped on the floor
        return writeAll(to, buffer, n);
      };
      bool open = true;
      if (client_poll.revents & (POLLIN | POLLHUP | POLLERR))
        open = forward(pair.client, pair.server);
      if (open && pair.server >= 0 && (server_poll.revents & (POLLIN | POLLHUP | POLLERR))) {
        open = forward(pair.server, pair.client);
      }
      if (!open) closePair(pair);
    }
  }
  for (auto& pair : pairs) closePair(pair);
}

std::string urlThroughPort(const std::string& url, int port) {
  const auto at = url.find('@');
  const auto host_start = at == std::string::npos ? url.find("://") + 3 : at + 1;
  const auto host_end = url.find('/', host_start);
  return url.substr(0, host_start) + "127.0.0.1:" + std::to_string(port) +
         (host_end == std::string::npos ? "" : url.substr(host_end));
}

}  // namespace qtopology::testing
