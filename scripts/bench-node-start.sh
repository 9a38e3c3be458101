#!/usr/bin/env bash
# Assignment to running for Node topologies: qtopology-worker against
# qtopology 2.3.2's own Node worker, in one run on a private MariaDB
# (bench/node/start_latency.js says how it measures). Uses the default build
# (build/): qtopology-worker, qtopology-mysql, and the Node packages of the
# interop tier (build/node-peer).
#
#   scripts/bench-node-start.sh [--topologies 6] [--rounds 3] [--tick-ms 500]
#
# A measurement, not a test: nothing here fails on a slow figure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTOPOLOGY_BUILD_DIR:-$root/build}
cmake --build "$build" --target qtopology-worker qtopology-mysql -j 2 >/dev/null
peer="$build/node-peer"
mkdir -p "$peer"
cp "$root/tests/interop/package.json" "$peer/package.json"
(cd "$peer" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

server_dir="$build/bench-node-start-mariadb"
trap '"$root/scripts/private-mariadb.sh" stop "$server_dir"' EXIT
url=$(env -u QTOPOLOGY_TEST_MYSQL_URL "$root/scripts/private-mariadb.sh" start "$server_dir")

NODE_PATH="$peer/node_modules" node "$root/bench/node/start_latency.js" --url "$url" \
  --cli "$build/apps/qtopology-mysql" --worker "$build/apps/qtopology-worker" \
  --node-worker "$root/tests/interop/node_worker.js" --node-modules "$peer/node_modules" "$@"
