// A TCP proxy between one client (a worker process) and the database server,
// for partition tests: it forwards bytes both ways until told to cut, then
// every connection, open or new, goes silent as in a network partition (no
// reset: the client sees its reads hang until its own timeouts fire).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace qtopology::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 on a free port and forwards to target_host:target_port.
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // The partition: from now on no byte passes, in either direction, on any
  // connection; new connections are accepted and then left silent.
  void cut();
  // The heal: the silent connections are closed (their sessions are gone, as
  // after a real partition that outlived the server's timeouts) and new
  // connections are forwarded again.
  void restore();
  // Connections accepted since construction.
  long connectionsAccepted() const { return accepted_; }

 private:
  void run();
  void wake();

  std::string target_host_;
  int target_port_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> drop_silent_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<long> accepted_{0};
  std::thread thread_;
};

// The URL with its host and port replaced by 127.0.0.1:port (keeps the
// user, password, database and query).
std::string urlThroughPort(const std::string& url, int port);

}  // namespace qtopology::testing
