#!/usr/bin/env bash
# Builds everything and runs all tests: unit, integration (on a private
# mariadbd that ctest starts and stops, or on QTOPOLOGY_TEST_MYSQL_URL, with
# the Node interoperability tests and the dashboard's HTTP API), the dashboard
# in headless Chromium (browser), packaging, the end-to-end demo scenario,
# the mixed C++/Node clusters with partitions and pauses,
# the reliability suite and the 3-node Galera tier; then unit, integration and
# e2e again under AddressSanitizer + UndefinedBehaviorSanitizer, and the
# tests where threads share one coordinator, and the lease watchdog, under
# ThreadSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

# run_suite BUILD_DIR CTEST_SELECTION CMAKE_ARGS...
run_suite() {
  local build=$1 selection=$2
  shift 2
  cmake -S "$root" -B "$build" -DQTOPOLOGY_MYSQL_WERROR=ON "$@" >/dev/null
  cmake --build "$build" -j "$(nproc)"
  ctest --test-dir "$build" $selection -j 2 --output-on-failure --timeout 900
}

run_suite "$root/build" "-L unit|integration|packaging|e2e|cluster|stress|galera|browser" -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "$root/build-asan" "-L unit|integration|e2e" -DCMAKE_BUILD_TYPE=Debug \
  -DQTOPOLOGY_MYSQL_SANITIZE=address,undefined
# The tests where threads share one coordinator, and the lease watchdog's
# thread, under ThreadSanitizer.
TSAN_OPTIONS=halt_on_error=1 \
  run_suite "$root/build-tsan" "-R ^(Leadership.Contested|Messages.ConcurrentReaders|Stress.CutConnections|MySqlWorkerLoop.ConcurrentCampaigns|LeaseWatchdog|TopologyWorker.LeaseWatchdog)" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQTOPOLOGY_MYSQL_SANITIZE=thread
