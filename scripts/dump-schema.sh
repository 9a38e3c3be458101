#!/usr/bin/env bash
# Regenerates db/current.sql from a database migrated by the library: the
# test that checks it writes it instead. The server keeps no comment of a
# routine; the test puts back those of the migration that last defined it (any
# vN.sql), so run this after adding or changing a migration. Needs a build
# (default: build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake --build "$build" --target qtopology_integration_tests -j "$(nproc)" >/dev/null
QTOPOLOGY_UPDATE_CURRENT_SQL=1 ctest --test-dir "$build" -R 'CurrentSchema\.' --output-on-failure
git -C "$root" diff --stat -- db/current.sql
