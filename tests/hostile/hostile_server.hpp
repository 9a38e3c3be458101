// A MySQL-protocol server that asks for the password the wrong ways, for the
// hostile-server tier. It listens on 127.0.0.1 only (an ephemeral port),
// serves at most kMaxConnections connections one after the other, bounds
// every read by size and time, and stops by itself after kLifetime or when
// destroyed. It records the bytes each connection sent it (after TLS
// decryption: what the server learns), so a test can look for the password.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace qtopology::hostile {

// How the server asks for the password.
enum class Answer {
  native,         // mysql_native_password (a scramble, never the password)
  sha2_fast,      // caching_sha2_password, the password's hash is in the cache
  sha2_full,      // caching_sha2_password, cache cold: full authentication
  clear_switch,   // an auth switch to mysql_clear_password
  dialog_switch,  // an auth switch to dialog, asking a password question
  tls_broken,     // offers TLS, then answers the TLS handshake with garbage
};
const char* answerName(Answer answer);

struct Setup {
  Answer answer = Answer::native;
  bool offer_tls = false;
  std::string certs_dir;  // server.pem, server-key.pem, rsa-private.pem, rsa-public.pem
  std::string password;   // the account's password: what the server accepts
};

// What one connection sent and got.
struct Transcript {
  std::string received;          // every byte the client sent, decrypted
  bool tls = false;              // the session was encrypted
  std::string client_plugin;     // the plugin its handshake response named
  bool accepted = false;         // the server let it in
  bool rsa_decrypted = false;    // the password came RSA-encrypted and decrypted right
  bool public_key_sent = false;  // the client asked for the server's RSA key
};

class HostileServer {
 public:
  static constexpr int kMaxConnections = 8;
  static constexpr std::chrono::seconds kLifetime{60};
  static constexpr std::chrono::seconds kIoTimeout{3};

  explicit HostileServer(Setup setup);
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  unsigned port() const { return port_; }
  // Stops accepting, waits for the connection being served, returns all.
  std::vector<Transcript> finish();

 private:
  void run();
  Transcript serve(int fd);

  Setup setup_;
  int listener_ = -1;
  unsigned port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<Transcript> transcripts_;
  std::thread thread_;
};

}  // namespace qtopology::hostile
