#include "auth_guard.hpp"

#include <errmsg.h>
#include <mysql.h>
#include <mysql/plugin_auth.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <utility>

#include "server_errors.hpp"
#include "session_options.hpp"

namespace qtopology::detail {
namespace {

constexpr unsigned kSslConnectionError = 2026;  // CR_SSL_CONNECTION_ERROR
constexpr unsigned kAuthPluginError = 2061;     // CR_AUTH_PLUGIN_ERR
constexpr std::size_t kScrambleLength = 20;
constexpr std::size_t kLongestKeyFile = 16 * 1024;

thread_local const AuthPolicy* current_policy = nullptr;

// Outside any AuthPolicyScope (another part of the process using libmariadb):
// the strictest policy, with the default auth_plugins.
const AuthPolicy& policy() {
  static const AuthPolicy strict = [] {
    AuthPolicy p;
    p.server = "(unknown server)";
    p.ssl_mode = "(unknown)";
    p.plugins = MySqlOptions().auth_plugins;
    return p;
  }();
  return current_policy ? *current_policy : strict;
}

int fail(MYSQL* mysql, unsigned code, const std::string& message) {
  mysql->methods->set_error(mysql, code, "HY000", "%s", message.c_str());
  return CR_ERROR;
}

bool accepted(const AuthPolicy& p, const char* plugin) {
  return std::find(p.plugins.begin(), p.plugins.end(), plugin) != p.plugins.end();
}

int refusePlugin(MYSQL* mysql, const AuthPolicy& p, const char* plugin) {
  return fail(mysql, kAuthPluginError,
              "server " + p.server + " asked for authentication plugin " + plugin +
                  ", which auth_plugins does not accept");
}

bool encrypted(MYSQL* mysql) { return mysql_get_ssl_cipher(mysql) != nullptr; }

bool onUnixSocket(MYSQL_PLUGIN_VIO* vio) {
  MYSQL_PLUGIN_VIO_INFO info{};
  vio->info(vio, &info);
  return info.protocol == MYSQL_PLUGIN_VIO_INFO::MYSQL_VIO_SOCKET;
}

// Where a password may travel in cleartext: what MySQL's client calls a
// secure transport. Judged from the session, never from the request.
bool secureTransport(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql) {
  return encrypted(mysql) || onUnixSocket(vio);
}

std::string password(MYSQL* mysql) { return mysql->passwd ? mysql->passwd : ""; }

int writeCleartext(MYSQL_PLUGIN_VIO* vio, const std::string& secret) {
  std::string packet = secret;
  packet.push_back('\0');
  const int rc = vio->write_packet(vio, reinterpret_cast<const unsigned char*>(packet.data()),
                                   static_cast<int>(packet.size()));
  std::fill(packet.begin(), packet.end(), '\0');
  return rc ? CR_ERROR : CR_OK;
}

// The scramble a switch request (or greeting) carried: 20 bytes and a NUL.
bool readScramble(MYSQL_PLUGIN_VIO* vio, std::string& scramble) {
  unsigned char* packet = nullptr;
  const int length = vio->read_packet(vio, &packet);
  if (length < static_cast<int>(kScrambleLength)) return false;
  scramble.assign(reinterpret_cast<const char*>(packet), kScrambleLength);
  return true;
}

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Key parsePublicKey(const char* pem, std::size_t size) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem, static_cast<int>(size)),
                                                &BIO_free);
  return Key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr,
             &EVP_PKEY_free);
}

// The password (with its NUL), XORed with the scramble and RSA-OAEP
// encrypted: what caching_sha2_password and sha256_password send without TLS.
bool rsaEncrypt(EVP_PKEY* key, const std::string& secret, const std::string& scramble,
                std::string& out) {
  std::string plain = secret;
  plain.push_back('\0');
  for (std::size_t i = 0; i < plain.size(); ++i) {
    plain[i] = static_cast<char>(plain[i] ^ scramble[i % scramble.size()]);
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  std::size_t length = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(plain.data());
  bool ok = ctx && EVP_PKEY_encrypt_init(ctx.get()) > 0 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) > 0 &&
            EVP_PKEY_encrypt(ctx.get(), nullptr, &length, in, plain.size()) > 0;
  if (ok) {
    out.assign(length, '\0');
    ok = EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &length, in,
                          plain.size()) > 0;
    out.resize(length);
  }
  std::fill(plain.begin(), plain.end(), '\0');
  return ok;
}

// The password, when a SHA-256 plugin's server needs it itself: in cleartext
// over a secure transport, else through the RSA exchange. `request` is the
// byte that asks the server for its key (2 for caching_sha2_password, 1 for
// sha256_password).
int sendPassword(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql, const char* plugin,
                 const std::string& scramble, unsigned char request) {
  if (secureTransport(vio, mysql)) return writeCleartext(vio, password(mysql));
  const AuthPolicy& p = policy();
  Key key(nullptr, &EVP_PKEY_free);
  if (!p.server_public_key.empty()) {
    std::ifstream file(p.server_public_key, std::ios::binary);
    std::string pem;
    if (file) {
      pem.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    if (!file.eof() && !file) pem.clear();
    if (pem.size() <= kLongestKeyFile) key = parsePublicKey(pem.data(), pem.size());
    if (!key) {
      return fail(mysql, kAuthPluginError,
                  "server_public_key '" + p.server_public_key +
                      "' cannot be read or holds no PEM public key");
    }
  } else if (p.get_server_public_key) {
    unsigned char* packet = nullptr;
    int length = -1;
    if (vio->write_packet(vio, &request, 1) == 0) length = vio->read_packet(vio, &packet);
    if (length <= 0 || static_cast<std::size_t>(length) > kLongestKeyFile ||
        !(key = parsePublicKey(reinterpret_cast<const char*>(packet),
                               static_cast<std::size_t>(length)))) {
      return fail(mysql, kAuthPluginError,
                  "server " + p.server + " sent no usable RSA public key for " + plugin);
    }
  } else {
    return fail(mysql, kAuthPluginError,
                "server " + p.server + " asks for the password through " + plugin +
                    " over an unencrypted session: use TLS, or give the server's RSA public key "
                    "with server_public_key=/path, or trust the key the server sends with "
                    "get_server_public_key=1");
  }
  std::string blob;
  if (!rsaEncrypt(key.get(), password(mysql), scramble, blob)) {
    return fail(mysql, kAuthPluginError, std::string("RSA encryption failed for ") + plugin);
  }
  return vio->write_packet(vio, reinterpret_cast<const unsigned char*>(blob.data()),
                           static_cast<int>(blob.size()))
             ? CR_ERROR
             : CR_OK;
}

std::string sha256(const std::string& in) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

// The gate: the first plugin of every session (see auth_guard.hpp).
int gateAuthenticate(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql) {
  const AuthPolicy& p = policy();
  // This write negotiates TLS and sends the handshake response: the user
  // name, no credential.
  static const unsigned char nothing = 0;
  if (vio->write_packet(vio, &nothing, 0)) return CR_ERROR;
  if (p.tls_mandatory && !encrypted(mysql)) {
    return fail(mysql, kSslConnectionError,
                "server " + p.server + " did not encrypt the session, and ssl_mode " + p.ssl_mode +
                    " requires TLS: refused before sending any credential");
  }
  // For the plugins libmariadb brings itself (mysql_native_password,
  // client_ed25519, ...): it refuses the ones not listed. Ours are listed
  // always: they check the policy themselves, and say what it allows.
  std::string list;
  for (const auto& name : p.plugins) list += name + ",";
  list += "caching_sha2_password,sha256_password,mysql_clear_password,dialog";
  mysql_optionsv(mysql, MARIADB_OPT_RESTRICTED_AUTH, list.c_str());
  return CR_OK;  // the server's answer: a switch to the account's plugin
}

// How both SHA-256 plugins begin: refused unless auth_plugins lists them,
// then the scramble. CR_OK: the exchange goes on.
int beginSha256Exchange(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql, const char* plugin,
                        std::string& scramble) {
  const AuthPolicy& p = policy();
  if (!accepted(p, plugin)) return refusePlugin(mysql, p, plugin);
  return readScramble(vio, scramble) ? CR_OK : CR_SERVER_HANDSHAKE_ERR;
}

int writeEmptyPassword(MYSQL_PLUGIN_VIO* vio) {
  return vio->write_packet(vio, nullptr, 0) ? CR_ERROR : CR_OK;
}

int cachingSha2Authenticate(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql) {
  std::string scramble;
  if (const int rc = beginSha256Exchange(vio, mysql, "caching_sha2_password", scramble);
      rc != CR_OK) {
    return rc;
  }
  const std::string secret = password(mysql);
  if (secret.empty()) return writeEmptyPassword(vio);
  // Fast authentication: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble).
  const std::string stage1 = sha256(secret);
  const std::string mix = sha256(sha256(stage1) + scramble);
  std::string reply(stage1.size(), '\0');
  for (std::size_t i = 0; i < reply.size(); ++i) reply[i] = static_cast<char>(stage1[i] ^ mix[i]);
  if (vio->write_packet(vio, reinterpret_cast<const unsigned char*>(reply.data()),
                        static_cast<int>(reply.size()))) {
    return CR_ERROR;
  }
  unsigned char* packet = nullptr;
  const int length = vio->read_packet(vio, &packet);
  if (length <= 0) return CR_ERROR;
  // A server that skips the "fast authentication succeeded" byte and sends
  // its OK at once: the handshake is complete.
  if (packet[0] == 0 && length > 1) return CR_OK_HANDSHAKE_COMPLETE;
  if (length != 1) return CR_ERROR;
  constexpr unsigned char kFastAuthOk = 3, kFullAuthNeeded = 4;
  if (packet[0] == kFastAuthOk) return CR_OK;
  if (packet[0] != kFullAuthNeeded) return CR_ERROR;
  return sendPassword(vio, mysql, "caching_sha2_password", scramble, 2);
}

int sha256Authenticate(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql) {
  std::string scramble;
  if (const int rc = beginSha256Exchange(vio, mysql, "sha256_password", scramble); rc != CR_OK) {
    return rc;
  }
  if (password(mysql).empty()) return writeEmptyPassword(vio);
  return sendPassword(vio, mysql, "sha256_password", scramble, 1);
}

// mysql_clear_password and dialog: the password itself, so only when the URL
// opted in, and only over an encrypted session or a Unix socket.
int cleartextAllowed(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql, const char* plugin) {
  const AuthPolicy& p = policy();
  if (!p.allow_cleartext) {
    return fail(mysql, kAuthPluginError,
                "server " + p.server + " asked for the password in cleartext (" + plugin +
                    "): refused; allow_cleartext_password=1 permits it over TLS or a Unix socket");
  }
  if (!secureTransport(vio, mysql)) {
    return fail(mysql, kAuthPluginError,
                "server " + p.server + " asked for the password in cleartext (" + plugin +
                    ") over an unencrypted session: refused even with allow_cleartext_password");
  }
  return CR_OK;
}

int clearPasswordAuthenticate(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql) {
  if (const int rc = cleartextAllowed(vio, mysql, "mysql_clear_password"); rc != CR_OK) return rc;
  return writeCleartext(vio, password(mysql));
}

// MariaDB's dialog (PAM): each packet is a question, its first byte says
// which kind. The password answers the password questions; anything else
// would need a person at a terminal.
int dialogAuthenticate(MYSQL_PLUGIN_VIO* vio, MYSQL* mysql) {
  if (const int rc = cleartextAllowed(vio, mysql, "dialog"); rc != CR_OK) return rc;
  constexpr int kMostQuestions = 8;
  for (int i = 0; i < kMostQuestions; ++i) {
    unsigned char* packet = nullptr;
    const int length = vio->read_packet(vio, &packet);
    if (length < 0) return CR_ERROR;
    if (length == 0 || packet[0] == 0 || packet[0] == 254) return CR_OK_HANDSHAKE_COMPLETE;
    const bool password_question = (packet[0] >> 1) == 2;
    if (!password_question) {
      return fail(
          mysql, kAuthPluginError,
          "server " + policy().server + " asked a dialog question that is not for the password");
    }
    if (writeCleartext(vio, password(mysql)) != CR_OK) return CR_ERROR;
    if (packet[0] & 1) return CR_OK;  // it was the last question
  }
  return fail(mysql, kAuthPluginError, "server " + policy().server + " asked too many questions");
}

// libmariadb's st_mysql_client_plugin_AUTHENTICATION, field for field: its
// <mysql/client_plugin.h> includes a header the package does not install.
struct AuthenticationPlugin {
  int type;
  unsigned int interface_version;
  const char* name;
  const char* author;
  const char* desc;
  unsigned int version[3];
  const char* license;
  void* mysql_api;
  int (*init)(char*, size_t, int, va_list);
  int (*deinit)();
  int (*options)(const char*, const void*);
  int (*authenticate_user)(MYSQL_PLUGIN_VIO*, MYSQL*);
};
constexpr int kAuthenticationPluginType = 2;                 // MYSQL_CLIENT_AUTHENTICATION_PLUGIN
constexpr unsigned kAuthenticationPluginInterface = 0x0100;  // ..._INTERFACE_VERSION

AuthenticationPlugin makePlugin(const char* name, int (*authenticate)(MYSQL_PLUGIN_VIO*, MYSQL*)) {
  return {kAuthenticationPluginType,
          kAuthenticationPluginInterface,
          name,
          "qtopology",
          "qtopology-mysql's guarded client authentication",
          {1, 0, 0},
          "MIT",
          nullptr,
          nullptr,
          nullptr,
          nullptr,
          authenticate};
}

AuthenticationPlugin plugins[] = {
    makePlugin(kGatePlugin, gateAuthenticate),
    makePlugin("caching_sha2_password", cachingSha2Authenticate),
    makePlugin("sha256_password", sha256Authenticate),
    makePlugin("mysql_clear_password", clearPasswordAuthenticate),
    makePlugin("dialog", dialogAuthenticate),
};

// Registering again is how we ask whether ours are still the ones held:
// libmariadb returns the plugin it has under that name.
void registerPlugins() {
  static std::mutex installing;
  std::lock_guard<std::mutex> lock(installing);
  std::unique_ptr<MYSQL, decltype(&mysql_close)> mysql(mysql_init(nullptr), &mysql_close);
  if (!mysql) throw ServerFailure(2008, "HY001", "mysql_init: out of memory", true);
  for (auto& plugin : plugins) {
    auto* mine = reinterpret_cast<st_mysql_client_plugin*>(&plugin);
    if (mysql_client_register_plugin(mysql.get(), mine) != mine) {
      throw ServerFailure(kAuthPluginError, "HY000",
                          std::string("libmariadb already loaded another authentication plugin "
                                      "named ") +
                              plugin.name + "; qtopology refuses to connect through it",
                          true);
    }
  }
}

AuthPolicy policyOf(const MySqlOptions& options, std::string server) {
  AuthPolicy p;
  p.server = std::move(server);
  p.ssl_mode = sslModeName(options.effectiveSslMode());
  p.tls_mandatory = tlsDemand(options).mandatory;
  p.plugins = options.auth_plugins;
  // mysql_clear_password and dialog need no place in `plugins`: the gate lets
  // the server switch to them always, and they check allow_cleartext.
  p.allow_cleartext = options.allow_cleartext_password;
  p.server_public_key = options.server_public_key;
  p.get_server_public_key = options.get_server_public_key;
  return p;
}

}  // namespace

AuthPolicyScope::AuthPolicyScope(const MySqlOptions& options, std::string server)
    : policy_(policyOf(options, std::move(server))), previous_(current_policy) {
  registerPlugins();
  current_policy = &policy_;
}

AuthPolicyScope::~AuthPolicyScope() { current_policy = previous_; }

}  // namespace qtopology::detail
