#!/usr/bin/env bash
# Builds everything and runs every test tier (CMakePresets.json): the default
# build runs unit, integration, packaging, e2e, cluster, stress, galera and
# browser; the AddressSanitizer + UBSan build runs unit, integration and e2e;
# the ThreadSanitizer build builds and runs the tests labelled tsan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh"

for preset in default asan tsan; do
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  ctest --preset "$preset"
done
