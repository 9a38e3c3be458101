// The hostile-server tier: for every ssl_mode x way of asking for the
// password x TLS offered or not, and for both client libraries (the pool's
// Connector/C++ sessions, the libmariadb bulk-read sessions), how many
// connections handed the hostile server the password in plaintext. Prints
// the matrix (ctest -V). QTOPOLOGY_HOSTILE_DIR holds the credentials the
// tier's set-up test made (make-credentials.sh).
#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <qtopology/mysql_options.hpp>

#include "hostile_server.hpp"
#include "mysql/bulk_read_session.hpp"
#include "mysql/connection_pool.hpp"
#include "mysql/server_errors.hpp"

namespace qtopology {
namespace {

using hostile::Answer;
using Mode = MySqlOptions::SslMode;

constexpr const char* kPassword = "Hostile-Pass-26";

std::string credentials() {
  const char* dir = std::getenv("QTOPOLOGY_HOSTILE_DIR");
  if (!dir) throw std::runtime_error("QTOPOLOGY_HOSTILE_DIR is not set: run through ctest");
  return dir;
}

enum class Library { connector, libmariadb };

// One connection attempt: what the server saw, what the client said.
struct Attempt {
  std::vector<hostile::Transcript> transcripts;
  std::string error;  // empty: the client got a session
  int leaked = 0;     // connections whose bytes carry the password in plaintext
  bool accepted = false;
};

std::string connectOnce(Library library, const MySqlOptions& options) {
  try {
    if (library == Library::connector) {
      detail::ConnectionPool pool(options);
      pool.connect(std::chrono::seconds(2));
    } else {
      const MySqlOptions::Endpoint endpoint{options.host, options.port};
      detail::BulkReadSession session(options, &endpoint, false);
    }
    return "";
  } catch (const sql::SQLException& e) {
    return std::string("Connector/C++: ") + e.what();
  } catch (const std::exception& e) {
    return e.what();
  }
}

MySqlOptions baseOptions(unsigned port, Mode mode) {
  MySqlOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.user = "victim";
  options.password = kPassword;
  options.ssl_mode = mode;
  if (mode == Mode::verify_ca || mode == Mode::verify_identity) {
    options.ssl_ca = credentials() + "/ca.pem";
  }
  options.retries = 0;
  options.connect_timeout = std::chrono::seconds(2);
  options.read_timeout = std::chrono::seconds(2);
  return options;
}

template <typename Adjust>
Attempt attempt(Library library, Answer answer, bool offer_tls, Mode mode, Adjust adjust) {
  hostile::HostileServer server({answer, offer_tls, credentials(), kPassword});
  MySqlOptions options = baseOptions(server.port(), mode);
  adjust(options);
  Attempt out;
  out.error = connectOnce(library, options);
  out.transcripts = server.finish();
  for (const auto& t : out.transcripts) {
    if (t.received.find(kPassword) != std::string::npos) ++out.leaked;
    out.accepted = out.accepted || t.accepted;
  }
  return out;
}

const std::vector<Mode> kModes = {Mode::disabled, Mode::preferred, Mode::required, Mode::verify_ca,
                                  Mode::verify_identity};
// Spelled here, not with detail::sslModeName: the errors must name the mode
// as the URL spells it, so the test keeps its own copy of the spelling.
const char* modeName(Mode mode) {
  switch (mode) {
    case Mode::disabled:
      return "DISABLED";
    case Mode::preferred:
      return "PREFERRED";
    case Mode::required:
      return "REQUIRED";
    case Mode::verify_ca:
      return "VERIFY_CA";
    case Mode::verify_identity:
      return "VERIFY_IDENTITY";
    case Mode::automatic:
      break;
  }
  return "automatic";
}

struct Row {
  Answer answer;
  bool offer_tls;
};
const std::vector<Row> kRows = {
    {Answer::native, false},       {Answer::native, true},       {Answer::sha2_fast, false},
    {Answer::sha2_fast, true},     {Answer::sha2_full, false},   {Answer::sha2_full, true},
    {Answer::clear_switch, false}, {Answer::clear_switch, true}, {Answer::dialog_switch, false},
    {Answer::dialog_switch, true}, {Answer::tls_broken, true},
};

// Whether the session of this cell is encrypted: TLS offered, not DISABLED,
// and the handshake not sabotaged (the test's CA signed the certificate).
bool encryptedCell(Answer answer, bool offer_tls, Mode mode) {
  return offer_tls && mode != Mode::disabled && answer != Answer::tls_broken;
}

// The one place the password may reach the server in plaintext without an
// opt-in: caching_sha2_password's full authentication over TLS, as MySQL's
// own client does it (the session is encrypted; the server needs the
// password to fill its cache).
int expectedLeaks(Answer answer, bool offer_tls, Mode mode) {
  return answer == Answer::sha2_full && encryptedCell(answer, offer_tls, mode) ? 1 : 0;
}

// With allow_cleartext_password=1: also the cleartext plugins, over TLS only.
int expectedLeaksWithOptIn(Answer answer, bool offer_tls, Mode mode) {
  const bool sends = answer == Answer::sha2_full || answer == Answer::clear_switch ||
                     answer == Answer::dialog_switch;
  return sends && encryptedCell(answer, offer_tls, mode) ? 1 : 0;
}

// Runs every cell with `adjust` applied, prints the matrix, returns the
// cells whose count differs from `expected`.
template <typename Adjust, typename Expected>
std::string runMatrix(const std::string& title, Adjust adjust, Expected expected,
                      std::map<std::pair<std::size_t, int>, std::vector<Attempt>>& results) {
  std::ostringstream failures;
  for (std::size_t r = 0; r < kRows.size(); ++r) {
    for (int lib = 0; lib < 2; ++lib) {
      for (Mode mode : kModes) {
        const Row row = kRows[r];
        Attempt a = attempt(static_cast<Library>(lib), row.answer, row.offer_tls, mode, adjust);
        const int want = expected(row.answer, row.offer_tls, mode);
        if (a.leaked != want) {
          failures << "  " << (lib == 0 ? "Connector/C++" : "libmariadb") << ", "
                   << hostile::answerName(row.answer) << (row.offer_tls ? " with" : " without")
                   << " TLS, " << modeName(mode) << ": " << a.leaked
                   << " connection(s) carried the password, expected " << want << " ("
                   << (a.error.empty() ? "session opened" : a.error) << ")\n";
        }
        results[{r, lib}].push_back(std::move(a));
      }
    }
  }
  std::ostringstream matrix;
  matrix << "\n"
         << title << "\nconnections that carried the password in plaintext; "
         << "a: the server accepted the login, -: it did not\n";
  matrix << std::left << std::setw(22) << "answer / tls offered";
  for (const char* lib : {"Connector/C++", "libmariadb"}) matrix << "| " << std::setw(38) << lib;
  matrix << "\n" << std::setw(22) << "";
  for (int lib = 0; lib < 2; ++lib) {
    matrix << "| ";
    for (const char* mode : {"DIS", "PRE", "REQ", "VCA", "VID"}) matrix << std::setw(7) << mode;
    matrix << "   ";
  }
  matrix << "\n";
  for (std::size_t r = 0; r < kRows.size(); ++r) {
    matrix << std::setw(22)
           << (std::string(hostile::answerName(kRows[r].answer)) +
               (kRows[r].offer_tls ? " / tls" : " / no tls"));
    for (int lib = 0; lib < 2; ++lib) {
      matrix << "| ";
      for (const Attempt& a : results[{r, lib}]) {
        matrix << std::setw(7) << (std::to_string(a.leaked) + (a.accepted ? "a" : "-"));
      }
      matrix << "   ";
    }
    matrix << "\n";
  }
  std::cout << matrix.str() << std::flush;
  return failures.str();
}

std::size_t rowOf(Answer answer, bool offer_tls) {
  for (std::size_t r = 0; r < kRows.size(); ++r) {
    if (kRows[r].answer == answer && kRows[r].offer_tls == offer_tls) return r;
  }
  throw std::logic_error("no such row");
}

std::size_t modeIndex(Mode mode) {
  return static_cast<std::size_t>(std::find(kModes.begin(), kModes.end(), mode) - kModes.begin());
}

TEST(HostileServer, NoPasswordInPlaintextInAnyModeOnEitherLibrary) {
  std::map<std::pair<std::size_t, int>, std::vector<Attempt>> results;
  const std::string failures = runMatrix(
      "default options", [](MySqlOptions&) {}, expectedLeaks, results);
  EXPECT_EQ(failures, "");
  for (int lib = 0; lib < 2; ++lib) {
    // From REQUIRED up, a server without TLS gets no credential at all: the
    // handshake response named the gate, and error 2026 names server and mode.
    for (Answer answer : {Answer::native, Answer::sha2_fast, Answer::sha2_full}) {
      for (Mode mode : {Mode::required, Mode::verify_ca}) {
        const Attempt& a = results[{rowOf(answer, false), lib}][modeIndex(mode)];
        EXPECT_FALSE(a.accepted);
        EXPECT_NE(a.error.find("did not encrypt the session"), std::string::npos) << a.error;
        EXPECT_NE(a.error.find(std::string("ssl_mode ") + modeName(mode)), std::string::npos)
            << a.error;
        EXPECT_NE(a.error.find("127.0.0.1:"), std::string::npos) << a.error;
        ASSERT_EQ(a.transcripts.size(), 1u);
        EXPECT_EQ(a.transcripts[0].client_plugin, "qtopology_tls_gate");
      }
    }
    // Without TLS and without a key, caching_sha2_password's full
    // authentication fails naming both ways to give one.
    for (Mode mode : {Mode::disabled, Mode::preferred}) {
      const Attempt& a = results[{rowOf(Answer::sha2_full, false), lib}][modeIndex(mode)];
      EXPECT_FALSE(a.accepted);
      EXPECT_NE(a.error.find("server_public_key=/path"), std::string::npos) << a.error;
      EXPECT_NE(a.error.find("get_server_public_key=1"), std::string::npos) << a.error;
    }
    // The cleartext plugins are refused, naming the opt-in.
    const Attempt& clear =
        results[{rowOf(Answer::clear_switch, true), lib}][modeIndex(Mode::required)];
    EXPECT_NE(clear.error.find("allow_cleartext_password=1"), std::string::npos) << clear.error;
  }
}

TEST(HostileServer, CleartextOptInSendsThePasswordOnlyOverTls) {
  std::map<std::pair<std::size_t, int>, std::vector<Attempt>> results;
  const std::string failures = runMatrix(
      "allow_cleartext_password=1", [](MySqlOptions& o) { o.allow_cleartext_password = true; },
      expectedLeaksWithOptIn, results);
  EXPECT_EQ(failures, "");
  for (int lib = 0; lib < 2; ++lib) {
    for (Answer answer : {Answer::clear_switch, Answer::dialog_switch}) {
      const Attempt& tls = results[{rowOf(answer, true), lib}][modeIndex(Mode::verify_identity)];
      EXPECT_TRUE(tls.accepted) << tls.error;
      const Attempt& plain = results[{rowOf(answer, false), lib}][modeIndex(Mode::preferred)];
      EXPECT_FALSE(plain.accepted);
      EXPECT_NE(plain.error.find("over an unencrypted session"), std::string::npos) << plain.error;
    }
  }
}

// The RSA exchange end to end: the server decrypts with its private key and
// finds the account's password.
TEST(HostileServer, CachingSha2WithoutTlsTakesTheRsaPath) {
  std::map<std::pair<std::size_t, int>, std::vector<Attempt>> results;
  EXPECT_EQ(runMatrix(
                "get_server_public_key=1", [](MySqlOptions& o) { o.get_server_public_key = true; },
                expectedLeaks, results),
            "");
  for (int lib = 0; lib < 2; ++lib) {
    for (Mode mode : {Mode::disabled, Mode::preferred}) {
      const Attempt& a = results[{rowOf(Answer::sha2_full, false), lib}][modeIndex(mode)];
      EXPECT_TRUE(a.accepted) << a.error;
    }
  }
  const std::string key = credentials() + "/rsa-public.pem";
  for (int lib = 0; lib < 2; ++lib) {
    for (Mode mode : {Mode::disabled, Mode::preferred}) {
      const Attempt fetched = attempt(static_cast<Library>(lib), Answer::sha2_full, false, mode,
                                      [](MySqlOptions& o) { o.get_server_public_key = true; });
      ASSERT_EQ(fetched.transcripts.size(), 1u);
      EXPECT_TRUE(fetched.transcripts[0].public_key_sent);
      EXPECT_TRUE(fetched.transcripts[0].rsa_decrypted);
      EXPECT_TRUE(fetched.accepted);
      EXPECT_EQ(fetched.leaked, 0);

      const Attempt given = attempt(static_cast<Library>(lib), Answer::sha2_full, false, mode,
                                    [&](MySqlOptions& o) { o.server_public_key = key; });
      ASSERT_EQ(given.transcripts.size(), 1u);
      EXPECT_FALSE(given.transcripts[0].public_key_sent);
      EXPECT_TRUE(given.transcripts[0].rsa_decrypted);
      EXPECT_TRUE(given.accepted);
      EXPECT_EQ(given.leaked, 0);

      const Attempt missing =
          attempt(static_cast<Library>(lib), Answer::sha2_full, false, mode,
                  [](MySqlOptions& o) { o.server_public_key = "/nonexistent.pem"; });
      EXPECT_FALSE(missing.accepted);
      EXPECT_NE(missing.error.find("/nonexistent.pem"), std::string::npos) << missing.error;
    }
  }
}

TEST(HostileServer, OnlyTheListedPluginsAreAccepted) {
  for (int lib = 0; lib < 2; ++lib) {
    const auto nativeOnly = [](MySqlOptions& o) { o.auth_plugins = {"mysql_native_password"}; };
    const Attempt sha2 =
        attempt(static_cast<Library>(lib), Answer::sha2_fast, true, Mode::required, nativeOnly);
    EXPECT_FALSE(sha2.accepted) << sha2.error;
    const Attempt native =
        attempt(static_cast<Library>(lib), Answer::native, true, Mode::required, nativeOnly);
    EXPECT_TRUE(native.accepted) << native.error;
    const auto sha2Only = [](MySqlOptions& o) { o.auth_plugins = {"caching_sha2_password"}; };
    const Attempt refusedNative =
        attempt(static_cast<Library>(lib), Answer::native, true, Mode::required, sha2Only);
    EXPECT_FALSE(refusedNative.accepted) << refusedNative.error;
  }
}

}  // namespace
}  // namespace qtopology
