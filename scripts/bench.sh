#!/usr/bin/env bash
# The benchmarks, in one command: installs what is missing,
# builds in Release (build-bench/), starts a private MariaDB, runs the Node
# peer (qtopology-mysql 2.2.1) and qtopology_bench against it on the same
# server, stops the server, and prints one table (also saved as
# build-bench/bench-results.md).
#
#   scripts/bench.sh [--cluster-only] [qtopology_bench options, e.g. --scale 0.2 --cluster-seconds 5]
#
# --cluster-only runs just the cluster step (real workers, then failover) and
# the Node peer's cluster step.
#
# Benchmarks are measurements, not tests: nothing here fails on a slow figure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTOPOLOGY_BENCH_BUILD_DIR:-$root/build-bench}
"$root/scripts/install-deps.sh"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DQTOPOLOGY_MYSQL_BUILD_BENCH=ON \
  -DQTOPOLOGY_MYSQL_BUILD_TESTS=OFF -DQTOPOLOGY_MYSQL_BUILD_APPS=OFF \
  -DQTOPOLOGY_MYSQL_INSTALL=OFF >/dev/null
# two jobs at most: the machines are shared
cmake --build "$build" --target qtopology_bench -j 2 >/dev/null
(cd "$build/bench/node" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

# Node takes the same scaling options; pass on those it knows.
node_args=()
args=()
for arg in "$@"; do
  if [[ $arg == --cluster-only ]]; then args+=(--only cluster); else args+=("$arg"); fi
done
for ((i = 0; i < ${#args[@]}; i += 2)); do
  case "${args[i]}" in
    --scale | --cluster-seconds | --cluster-max | --only) node_args+=("${args[i]}" "${args[i + 1]}") ;;
  esac
done

server_dir="$build/bench-mariadb"
trap '"$root/scripts/private-mariadb.sh" stop "$server_dir"' EXIT
url=$(env -u QTOPOLOGY_TEST_MYSQL_URL "$root/scripts/private-mariadb.sh" start "$server_dir")

node "$build/bench/node/bench.js" --url "$url" --out "$build/bench-node.json" "${node_args[@]}"
"$build/bench/qtopology_bench" --url "$url" --node "$build/bench-node.json" "${args[@]}" |
  tee "$build/bench-results.md"
