// One scenario on a server configured as users' servers are (the field
// tier's CMakeLists.txt starts one per configuration and runs this against
// it): migrate, register two topologies (one with a non-ASCII uuid), one
// worker runs both, a second takes over after the first is SIGKILLed, the
// CLI's reads and the dashboard's /health answer, and no log shows a server
// error.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cluster_fixture.hpp"
#include "dashboard_process.hpp"

namespace qtopology::testing {
namespace {

using std::chrono::seconds;

const std::string kPlainUuid = "orders";
const std::string kWideUuid = "commandes-\u00e9t\u00e9-\u65e5\u672c";  // é, 日本: outside latin1

// Lines of a log that report a failure the server or the client library
// raised. The library names them "server error N".
std::vector<std::string> serverErrors(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("server error") != std::string::npos ||
        line.find("Commands out of sync") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

// The whole answer to one GET on loopback (the dashboard closes after it).
std::string httpGet(int port, const std::string& path, const std::string& token) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request =
        "GET " + path +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-QTopology-Token: " + token +
        "\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
        answer.append(buffer, static_cast<std::size_t>(got));
      }
    }
  }
  ::close(fd);
  return answer;
}

class FieldScenario : public ClusterFixture {
 protected:
  std::string topologyFile(const std::string& name) {
    const std::string path = ::testing::TempDir() + db_.name() + "-" + name + ".json";
    std::ofstream(path) << R"({"general": {"command": ["sleep", "600"], "weight": 1}})";
    files_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& path : files_) std::remove(path.c_str());
    ClusterFixture::TearDown();
  }

  // Both topologies reported running on `worker`, each with a live pid.
  bool bothRunOn(const std::string& worker) {
    const auto ts = topologies();
    return std::all_of(std::begin(uuids_), std::end(uuids_), [&](const std::string& uuid) {
      const auto t = ts.find(uuid);
      return t != ts.end() && t->second.status == TopologyState::running &&
             t->second.worker == worker && t->second.pid && processAlive(*t->second.pid);
    });
  }

  const std::string uuids_[2] = {kPlainUuid, kWideUuid};
  std::vector<std::string> files_;
};

TEST_F(FieldScenario, MigrateRunTakeOverAndRead) {
  const auto migrate = cli({"migrate"});
  ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
  for (const auto& uuid : uuids_) {
    const auto registered = cli({"register", uuid, topologyFile(uuid)});
    ASSERT_EQ(registered.exit_code, 0) << registered.err;
    const auto enabled = cli({"enable", uuid});
    ASSERT_EQ(enabled.exit_code, 0) << enabled.err;
  }
  EXPECT_EQ(storage_->getTopologyInfo(kWideUuid).uuid, kWideUuid) << "the uuid survived intact";

  startWorker("first");
  ASSERT_TRUE(eventually(seconds(30), [&] { return bothRunOn("first"); }))
      << "one worker runs both topologies";

  startWorker("second");
  ASSERT_TRUE(eventually(seconds(20), [&] {
    const auto ws = workers();
    return ws.count("second") && ws.at("second").status == WorkerState::alive;
  }));
  workers_.at("first")->signal(SIGKILL);
  ASSERT_TRUE(workers_.at("first")->wait(seconds(5)).has_value());
  ASSERT_TRUE(eventually(seconds(60), [&] { return bothRunOn("second"); }))
      << "the second worker took both over";

  for (const std::vector<std::string>& read : {std::vector<std::string>{"workers"},
                                               {"list"},
                                               {"details", kWideUuid},
                                               {"check"},
                                               {"history", "topology", kWideUuid},
                                               {"queue"}}) {
    const auto r = cli(read);
    EXPECT_EQ(r.exit_code, 0) << read[0] << ": " << r.err;
    EXPECT_TRUE(serverErrors(r.err).empty()) << r.err;
  }
  EXPECT_NE(cli({"list"}).out.find(kWideUuid), std::string::npos);

  DashboardProcess dashboard(db_.url(), {"--read-only"});
  const auto health = httpGet(dashboard.port(), "/health", dashboard.token());
  EXPECT_EQ(health.substr(0, 12), "HTTP/1.1 200") << health << dashboard.log();
  EXPECT_TRUE(serverErrors(dashboard.log()).empty()) << dashboard.log();

  for (const auto& name : {std::string("first"), std::string("second")}) {
    const auto errors = serverErrors(readFile(logOf(name)));
    EXPECT_TRUE(errors.empty()) << name << ": " << errors.front();
  }
}

}  // namespace
}  // namespace qtopology::testing
