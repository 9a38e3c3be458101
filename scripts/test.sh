#!/usr/bin/env bash
# Builds everything and runs all tests: unit, integration (on a private
# mariadbd that ctest starts and stops, or on QTOPOLOGY_TEST_MYSQL_URL), the
# Node interoperability tests and the install test; then the unit and
# integration tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

run_suite() {
  local build=$1 labels=$2
  shift 2
  cmake -S "$root" -B "$build" -DQTOPOLOGY_MYSQL_WERROR=ON "$@" >/dev/null
  cmake --build "$build" -j "$(nproc)"
  ctest --test-dir "$build" -L "$labels" -j 2 --output-on-failure --timeout 900
}

run_suite "$root/build" "unit|integration|packaging" -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "$root/build-asan" "unit|integration" -DCMAKE_BUILD_TYPE=Debug \
  -DQTOPOLOGY_MYSQL_SANITIZE=address,undefined
