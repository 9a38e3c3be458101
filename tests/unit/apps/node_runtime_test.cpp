// findNodeRuntime() against the real node program and a stand-in for the
// qtopology package (a package.json and the wrapper's file): the probe runs
// node, which resolves the package as require() would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "node_runtime.hpp"
#include "scratch_directory.hpp"

namespace qtopology::testing {
namespace {

using ::testing::HasSubstr;
using worker::findNodeRuntime;
using worker::findProgram;

class NodeRuntimeTest : public ::testing::Test {
 protected:
  // node_modules/qtopology under the scratch directory, of `version`.
  void fakePackage(const std::string& version) {
    const std::string package = scratch_.path("node_modules/qtopology");
    std::filesystem::create_directories(package + "/built/distributed");
    std::ofstream(package + "/package.json")
        << "{\"name\":\"qtopology\",\"version\":\"" << version << "\"}";
    std::ofstream(package + "/built/distributed/topology_local_wrapper_main.js") << "\n";
  }

  ScratchDirectory scratch_{"node-runtime"};
};

TEST_F(NodeRuntimeTest, FindsTheWrapperAndVersionOfTheQtopologyPackage) {
  if (findProgram("node").empty()) GTEST_SKIP() << "no node in PATH";
  fakePackage("2.3.2");
  const auto runtime = findNodeRuntime({"node", scratch_.dir(), {}});
  EXPECT_EQ(runtime.problem, "");
  EXPECT_EQ(runtime.node, findProgram("node"));
  EXPECT_EQ(runtime.version, "2.3.2");
  EXPECT_EQ(std::filesystem::canonical(runtime.wrapper),
            std::filesystem::canonical(scratch_.path(
                "node_modules/qtopology/built/distributed/topology_local_wrapper_main.js")));
}

TEST_F(NodeRuntimeTest, AnotherMajorVersionOrNoPackageIsTheProblem) {
  if (findProgram("node").empty()) GTEST_SKIP() << "no node in PATH";
  EXPECT_THAT(findNodeRuntime({"node", scratch_.dir(), {}}).problem,
              HasSubstr("cannot find the qtopology package"));
  fakePackage("3.0.0");
  EXPECT_THAT(findNodeRuntime({"node", scratch_.dir(), {}}).problem,
              HasSubstr("qtopology 3.0.0 found, but this worker speaks the child protocol of "
                        "qtopology 2.x"));
}

TEST_F(NodeRuntimeTest, AProgramThatIsNotThereIsTheProblem) {
  const auto runtime = findNodeRuntime({scratch_.path("no-node"), "", {}});
  EXPECT_FALSE(runtime.available());
  EXPECT_THAT(runtime.problem,
              HasSubstr("no node program '" + scratch_.path("no-node") + "' there"));
}

}  // namespace
}  // namespace qtopology::testing
