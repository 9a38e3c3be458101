#!/usr/bin/env bash
# What an idle cluster writes, on a binary-logged private MariaDB: C++
# workers (every heartbeat writing, as schema v25; then v26's default
# interval) and the Node package's workers, one after the other on the same
# server. Prints the rows of step 6 of docs/performance.md.
#
#   scripts/bench-idle.sh [--idle-workers 20] [--idle-seconds 30]
#
# Uses the bench build of scripts/bench.sh (build-bench/, or
# $QTOPOLOGY_BENCH_BUILD_DIR); build it first with scripts/bench.sh or
# cmake -DQTOPOLOGY_MYSQL_BUILD_BENCH=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTOPOLOGY_BENCH_BUILD_DIR:-$root/build-bench}
[[ -x "$build/bench/qtopology_bench" ]] || {
  echo "bench-idle: no $build/bench/qtopology_bench; build it first" >&2
  exit 1
}
build=$(cd "$build" && pwd)  # the server's options need absolute paths
(cd "$build/bench/node" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

server_dir="$build/bench-idle-mariadb"
trap '"$root/scripts/private-mariadb.sh" stop "$server_dir"' EXIT
url=$(env -u QTOPOLOGY_TEST_MYSQL_URL "$root/scripts/private-mariadb.sh" start "$server_dir" -- \
  --log-bin="$server_dir/binlog" --binlog-format=ROW --server-id=1)

node "$build/bench/node/bench.js" --url "$url" --out "$build/bench-idle-node.json" \
  --only idle "$@"
"$build/bench/qtopology_bench" --url "$url" --node "$build/bench-idle-node.json" \
  --only idle "$@"
