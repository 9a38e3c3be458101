#include "hostile_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace qtopology::hostile {

const char* answerName(Answer answer) {
  switch (answer) {
    case Answer::native:
      return "native";
    case Answer::sha2_fast:
      return "sha2-fast";
    case Answer::sha2_full:
      return "sha2-full";
    case Answer::clear_switch:
      return "clear-switch";
    case Answer::dialog_switch:
      return "dialog-switch";
    case Answer::tls_broken:
      return "tls-broken";
  }
  return "?";
}

namespace {

// Capability flags of the protocol (a subset).
constexpr std::uint32_t kLongPassword = 1, kConnectWithDb = 8, kProtocol41 = 0x200, kSsl = 0x800,
                        kTransactions = 0x2000, kSecureConnection = 0x8000,
                        kMultiStatements = 1u << 16, kMultiResults = 1u << 17,
                        kPluginAuth = 1u << 19, kConnectAttrs = 1u << 20,
                        kPluginAuthLenencData = 1u << 21;
constexpr std::size_t kLongestPacket = 64 * 1024;
constexpr int kMostCommands = 16;

struct ConnectionGone : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("hostile server: cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// One client connection: plaintext, then maybe TLS; every byte read is kept.
class Link {
 public:
  Link(int fd, Transcript& transcript) : fd_(fd), transcript_(transcript) {}
  ~Link() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    if (ctx_) SSL_CTX_free(ctx_);
  }

  bool startTls(const std::string& certs) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (!ctx_ || SSL_CTX_use_certificate_chain_file(ctx_, (certs + "/server.pem").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, (certs + "/server-key.pem").c_str(), SSL_FILETYPE_PEM) !=
            1) {
      throw std::runtime_error("hostile server: cannot load the test certificate");
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_accept(ssl_) != 1) return false;
    transcript_.tls = true;
    return true;
  }

  void readExact(unsigned char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const long r = ssl_ ? SSL_read(ssl_, out + got, static_cast<int>(n - got))
                          : ::recv(fd_, out + got, n - got, 0);
      if (r <= 0) throw ConnectionGone("closed");
      got += static_cast<std::size_t>(r);
    }
    transcript_.received.append(reinterpret_cast<const char*>(out), n);
  }

  std::string readPacket() {
    unsigned char header[4];
    readExact(header, 4);
    const std::size_t length = header[0] | (header[1] << 8) | (header[2] << 16);
    if (length > kLongestPacket) throw ConnectionGone("packet too long");
    seq_ = static_cast<unsigned char>(header[3] + 1);
    std::string body(length, '\0');
    if (length) readExact(reinterpret_cast<unsigned char*>(body.data()), length);
    return body;
  }

  void writePacket(const std::string& body) {
    std::string wire;
    wire.push_back(static_cast<char>(body.size() & 0xff));
    wire.push_back(static_cast<char>((body.size() >> 8) & 0xff));
    wire.push_back(static_cast<char>((body.size() >> 16) & 0xff));
    wire.push_back(static_cast<char>(seq_++));
    wire += body;
    writeRaw(wire);
  }

  void writeRaw(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const long w =
          ssl_ ? SSL_write(ssl_, bytes.data() + sent, static_cast<int>(bytes.size() - sent))
               : ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (w <= 0) throw ConnectionGone("closed");
      sent += static_cast<std::size_t>(w);
    }
  }

  void resetSequence() { seq_ = 1; }

 private:
  int fd_;
  Transcript& transcript_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  unsigned char seq_ = 0;
};

std::string le16(unsigned v) { return {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; }
std::string le32(std::uint32_t v) { return le16(v & 0xffff) + le16(v >> 16); }

std::string okPacket() { return std::string("\x00\x00\x00\x02\x00\x00\x00", 7); }

std::string errPacket(unsigned code, const std::string& message) {
  return std::string("\xff", 1) + le16(code) + "#28000" + message;
}

std::string randomScramble() {
  std::string s(20, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), 20);
  for (char& c : s) c = static_cast<char>((static_cast<unsigned char>(c) % 94) + 33);  // no NUL
  return s;
}

std::string sha256(const std::string& in) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

// caching_sha2_password's fast reply: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)), nonce).
std::string sha2Scramble(const std::string& password, const std::string& nonce) {
  const std::string once = sha256(password);
  const std::string mix = sha256(sha256(once) + nonce);
  std::string out(once.size(), '\0');
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(once[i] ^ mix[i]);
  return out;
}

// The RSA-OAEP blob a client sends, decrypted and un-XORed with the nonce.
bool rsaPassword(const std::string& blob, const std::string& nonce, const std::string& pem,
                 std::string& password) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return false;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0) {
    return false;
  }
  std::size_t length = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(blob.data());
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &length, in, blob.size()) <= 0) return false;
  std::string plain(length, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length, in,
                       blob.size()) <= 0) {
    return false;
  }
  plain.resize(length);
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<char>(plain[i] ^ nonce[i % nonce.size()]);
  if (!plain.empty() && plain.back() == '\0') plain.pop_back();
  password = plain;
  return true;
}

const char* greetingPlugin(Answer answer) {
  switch (answer) {
    case Answer::sha2_fast:
    case Answer::sha2_full:
    case Answer::tls_broken:
      return "caching_sha2_password";
    default:
      return "mysql_native_password";
  }
}

// The plugin name a handshake response ends with ("" when it names none).
std::string clientPlugin(const std::string& response, std::uint32_t& client_caps) {
  if (response.size() < 32) throw ConnectionGone("short handshake response");
  client_caps = static_cast<unsigned char>(response[0]) |
                (static_cast<unsigned char>(response[1]) << 8) |
                (static_cast<unsigned char>(response[2]) << 16) |
                (static_cast<std::uint32_t>(static_cast<unsigned char>(response[3])) << 24);
  std::size_t at = 32;
  const auto skipString = [&] {
    const auto end = response.find('\0', at);
    if (end == std::string::npos) throw ConnectionGone("unterminated string");
    const std::string s = response.substr(at, end - at);
    at = end + 1;
    return s;
  };
  skipString();  // user
  if (at >= response.size()) return "";
  std::size_t data_length = static_cast<unsigned char>(response[at++]);
  if ((client_caps & kPluginAuthLenencData) && data_length >= 0xfb) {
    throw ConnectionGone("auth data too long");  // a scramble never is
  }
  at += data_length;
  if (client_caps & kConnectWithDb) {
    if (at >= response.size()) return "";
    skipString();
  }
  if (!(client_caps & kPluginAuth) || at >= response.size()) return "";
  return skipString();
}

}  // namespace

HostileServer::HostileServer(Setup setup) : setup_(std::move(setup)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::listen(listener_, 4) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    if (listener_ >= 0) ::close(listener_);
    throw std::runtime_error("hostile server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
}

HostileServer::~HostileServer() { finish(); }

std::vector<Transcript> HostileServer::finish() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) {
    ::close(listener_);
    listener_ = -1;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return transcripts_;
}

void HostileServer::run() {
  const auto deadline = std::chrono::steady_clock::now() + kLifetime;
  for (int served = 0;
       served < kMaxConnections && !stop_ && std::chrono::steady_clock::now() < deadline;) {
    pollfd waiting{listener_, POLLIN, 0};
    if (::poll(&waiting, 1, 50) <= 0) continue;
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++served;
    timeval timeout{static_cast<time_t>(kIoTimeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    Transcript transcript = serve(fd);
    ::close(fd);
    std::lock_guard<std::mutex> lock(mutex_);
    transcripts_.push_back(std::move(transcript));
  }
}

Transcript HostileServer::serve(int fd) {
  Transcript transcript;
  Link link(fd, transcript);
  try {
    const std::string nonce = randomScramble();
    const bool offer_tls = setup_.offer_tls || setup_.answer == Answer::tls_broken;
    const std::uint32_t caps = kLongPassword | kConnectWithDb | kProtocol41 | kTransactions |
                               kSecureConnection | kMultiStatements | kMultiResults | kPluginAuth |
                               kConnectAttrs | kPluginAuthLenencData | (offer_tls ? kSsl : 0);
    std::string greeting;
    greeting += '\x0a';
    greeting += std::string("8.0.36-hostile") + '\0';
    greeting += le32(42);
    greeting += nonce.substr(0, 8) + '\0';
    greeting += le16(caps & 0xffff);
    greeting += '\xff';  // utf8mb4_0900_ai_ci
    greeting += le16(0x0002);
    greeting += le16(caps >> 16);
    greeting += static_cast<char>(21);
    greeting += std::string(10, '\0');
    greeting += nonce.substr(8) + '\0';
    greeting += std::string(greetingPlugin(setup_.answer)) + '\0';
    link.writePacket(greeting);

    std::string response = link.readPacket();
    std::uint32_t client_caps = 0;
    if (response.size() == 32 && (static_cast<unsigned char>(response[1]) & (kSsl >> 8))) {
      if (setup_.answer == Answer::tls_broken) {
        link.writeRaw("HTTP/1.1 400 Bad Request\r\n\r\n");  // not a TLS ServerHello
        for (int i = 0; i < 4; ++i) link.readPacket();      // whatever the client still sends
        return transcript;
      }
      if (!link.startTls(setup_.certs_dir)) return transcript;
      response = link.readPacket();
    }
    transcript.client_plugin = clientPlugin(response, client_caps);

    // Switches the client to `plugin` with fresh data, returns its reply.
    const auto switchTo = [&](const std::string& plugin, const std::string& data) {
      link.writePacket(std::string("\xfe", 1) + plugin + '\0' + data);
      return link.readPacket();
    };
    bool accepted = true;
    switch (setup_.answer) {
      case Answer::native:
        if (transcript.client_plugin != "mysql_native_password") {
          switchTo("mysql_native_password", nonce + '\0');
        }
        break;
      case Answer::sha2_fast:
      case Answer::sha2_full: {
        std::string reply = response;
        if (transcript.client_plugin != "caching_sha2_password") {
          reply = switchTo("caching_sha2_password", nonce + '\0');
        } else {
          reply.clear();  // the fast reply is in the handshake response; not parsed out
        }
        if (setup_.answer == Answer::sha2_fast) {
          accepted = reply.empty() || reply == sha2Scramble(setup_.password, nonce);
          if (accepted) link.writePacket(std::string("\x01\x03", 2));
          break;
        }
        link.writePacket(std::string("\x01\x04", 2));  // full authentication
        std::string next = link.readPacket();
        const std::string private_pem = readFile(setup_.certs_dir + "/rsa-private.pem");
        if (next == std::string("\x02", 1)) {
          transcript.public_key_sent = true;
          link.writePacket(std::string("\x01", 1) + readFile(setup_.certs_dir + "/rsa-public.pem"));
          next = link.readPacket();
        }
        std::string password;
        if (next.size() == 256 && rsaPassword(next, nonce, private_pem, password)) {
          transcript.rsa_decrypted = password == setup_.password;
          accepted = transcript.rsa_decrypted;
        } else {
          accepted = next == setup_.password + '\0';  // the password in cleartext
        }
        break;
      }
      case Answer::clear_switch:
        switchTo("mysql_clear_password", "");
        break;
      case Answer::dialog_switch:
        switchTo("dialog", std::string("\x05", 1) + "Password: ");  // last question, a password
        break;
      case Answer::tls_broken:
        accepted = false;
        break;
    }
    if (!accepted) {
      link.writePacket(errPacket(1045, "Access denied for user"));
      return transcript;
    }
    transcript.accepted = true;
    link.writePacket(okPacket());
    for (int i = 0; i < kMostCommands; ++i) {
      link.resetSequence();
      const std::string command = link.readPacket();
      if (command.empty() || command[0] == '\x01') break;  // COM_QUIT
      link.writePacket(errPacket(1105, "hostile server answers no queries"));
    }
  } catch (const ConnectionGone&) {
    // The client hung up or stalled: its transcript is what it sent.
  }
  ERR_clear_error();
  return transcript;
}

}  // namespace qtopology::hostile
