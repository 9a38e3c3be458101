#!/usr/bin/env bash
# The demo cluster, from a fresh Debian 12 machine to a clean shutdown:
#
#   1. installs what is missing, builds the worker and the CLI;
#   2. starts a private MariaDB (data in build/demo/mariadb, no system service);
#   3. registers the six command topologies of apps/demo (mixed weights, one
#      affinity) and one Node topology (apps/demo/node: qtopology's sys nodes,
#      run through qtopology 2.3.2's child wrapper; npm installs qtopology
#      into the build tree);
#      each runs apps/demo/topology.sh as a real process (its general.command);
#   4. starts three qtopology-worker processes, enables the topologies and
#      shows the leader election, how they spread by weight, and their processes;
#   5. SIGKILLs the leader: its processes die with it, and its topologies run
#      elsewhere as new processes;
#   6. stops one topology through the CLI (its process gets SIGTERM);
#   7. runs a topology that crashes: restarted once, then in error with its
#      exit code and last stderr lines;
#   8. shuts every worker down cleanly, prints the final tables, stops MariaDB.
#
# Beside the cluster runs `qtopology-mysql dashboard`; its URL is printed at
# step 4: open it to watch the same events in a browser.
#
# The workers' own log lines, and what their topologies print, appear as they
# happen, between the demo's steps.
# Environment: QTOPOLOGY_DEMO_BUILD (build directory, default build/);
# QTOPOLOGY_DEMO_DASHBOARD (the dashboard's HOST:PORT, default 127.0.0.1:0:
# a free port, printed); QTOPOLOGY_DEMO_HOLD_S (seconds to keep the final
# cluster and its dashboard up before shutting down, default 0).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${QTOPOLOGY_DEMO_BUILD:-$root/build}
demo_dir="$build/demo"
server_dir="$demo_dir/mariadb"
database=qtopology_demo
# Short cluster timeouts (the defaults are 30 s, 10 s and 30 s) keep the demo
# at about a minute; `qtopology-mysql settings` sets them for the whole cluster.
worker_dead_timeout_s=10
leader_timeout_s=5
waiting_timeout_s=10

started_at=$(date +%s)
bold=; plain=
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; fi
say() { printf '%s demo      %s%s%s\n' "$(date +%H:%M:%S.%3N)" "$bold" "$*" "$plain"; }
indent() { sed 's/^/        /'; }
fail() {
  say "FAILED: $*"
  exit 1
}

say "Installing missing packages and building (first run: a few minutes)"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target qtopology-worker qtopology-mysql >/dev/null
worker_bin="$build/apps/qtopology-worker"
cli_bin="$build/apps/qtopology-mysql"
node_dir="$build/demo-node"
mkdir -p "$node_dir"
cp "$root/tests/interop/package.json" "$node_dir/package.json"
(cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

declare -A worker_pids=()
dashboard_pid=
cleanup() {
  local name
  [[ -z $dashboard_pid ]] || kill "$dashboard_pid" 2>/dev/null || true
  for name in "${!worker_pids[@]}"; do
    kill -9 "${worker_pids[$name]}" 2>/dev/null || true
  done
  "$root/scripts/private-mariadb.sh" stop "$server_dir" || true
}
trap cleanup EXIT

cli() { "$cli_bin" "$@"; }
sql() { mariadb --no-defaults --socket="$server_dir/mysqld.sock" -uroot "$@"; }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@"; do
    (($(date +%s) < deadline)) || fail "$what did not happen within $seconds s"
    sleep 0.5
  done
}

# Columns of `qtopology-mysql list`: UUID STATUS ENABLED WORKER ...
# Columns of `qtopology-mysql workers`: NAME STATUS LEADERSHIP ...
leader() { cli workers | awk 'NR > 1 && $2 == "alive" && $3 == "leader" { print $1 }'; }
has_leader() { [[ -n $(leader) ]]; }
# Every enabled topology runs on an alive worker.
all_enabled_running() {
  local alive
  alive=$(cli workers | awk 'NR > 1 && $2 == "alive" { printf "%s ", $1 }')
  cli list | awk -v alive=" $alive" '
    NR > 1 && $3 == "yes" { enabled++; if ($2 == "running" && index(alive, " " $4 " ")) ok++ }
    END { exit !(enabled > 0 && ok == enabled) }'
}
topology_field() { cli list | awk -v uuid="$1" -v col="$2" 'NR > 1 && $1 == uuid { print $col }'; }
# The pid of a topology's process (the AFFINITY column may be empty, so not
# from `list`).
topology_pid() { cli details "$1" | awk '$1 == "pid:" { print $2 }'; }
# One line per running topology: its worker, uuid and process.
show_processes() {
  local uuid pid
  for uuid in $(cli list | awk 'NR > 1 && $2 == "running" { print $1 }'); do
    pid=$(topology_pid "$uuid")
    printf '%-9s %-15s pid %-7s %s\n' "$(topology_field "$uuid" 4)" "$uuid" "$pid" \
      "$(ps -o args= -p "$pid" 2>/dev/null || echo '(no such process)')"
  done | sort
}
is_stopped() { [[ $(topology_field "$1" 2) == unassigned && $(topology_field "$1" 3) == no ]]; }
worker_gone() { ! kill -0 "${worker_pids[$1]}" 2>/dev/null; }
load_summary() {
  cli list | awk 'NR > 1 && $2 == "running" { load[$4] += $5; list[$4] = list[$4] " " $1 }
    END { for (w in load) printf "%s: load %s,%s\n", w, load[w], list[w] }' | sort
}

say "Starting a private MariaDB in $server_dir"
# Always a private server, even where the tests are pointed elsewhere.
server_url=$(env -u QTOPOLOGY_TEST_MYSQL_URL "$root/scripts/private-mariadb.sh" start "$server_dir")
sql -e "DROP DATABASE IF EXISTS $database; CREATE DATABASE $database"
export QTOPOLOGY_MYSQL_URL="${server_url}${database}"
say "Database: $QTOPOLOGY_MYSQL_URL"
cli migrate | indent
cli settings worker_dead_timeout_s "$worker_dead_timeout_s" | indent
cli settings leader_timeout_s "$leader_timeout_s" | indent
cli settings waiting_timeout_s "$waiting_timeout_s" | indent
say "Timeouts lowered for the demo: worker dead after ${worker_dead_timeout_s} s," \
  "leader replaced after ${leader_timeout_s} s, waiting topology returned after ${waiting_timeout_s} s"

say "Registering six command topologies and one Node topology (registered topologies start disabled)"
uuids=()
for file in "$root"/apps/demo/*.json "$root"/apps/demo/node/*.json; do
  uuid=$(basename "$file" .json)
  uuids+=("$uuid")
  cli register "$uuid" "$file" >/dev/null
done
cli list | awk '{ printf "%-16s %-8s %-7s %s\n", $1, $3, $5, $6 }' | indent

say "Starting the dashboard"
dashboard_log="$demo_dir/dashboard.log"
"$cli_bin" dashboard --listen "${QTOPOLOGY_DEMO_DASHBOARD:-127.0.0.1:0}" >"$dashboard_log" 2>&1 &
dashboard_pid=$!
dashboard_url() { grep -o 'http://[^ ]*' "$dashboard_log" | head -1; }
has_dashboard_url() { [[ -n $(dashboard_url) ]] || ! kill -0 "$dashboard_pid" 2>/dev/null; }
wait_for 10 "the dashboard's start" has_dashboard_url
[[ -n $(dashboard_url) ]] || fail "the dashboard did not start: $(cat "$dashboard_log")"
say "Dashboard: $(dashboard_url) (refreshes every 15 s; log in $dashboard_log)"

say "Starting three workers"
# In the source tree: the topologies' commands are relative to it. The lease
# stays below the lowered dead-worker timeout; the leader loop runs every
# second instead of Node's five.
cd "$root"
for name in worker-1 worker-2 worker-3; do
  "$worker_bin" --name "$name" --leader-loop-ms 1000 --lease-ms 7000 --grace-ms 2000 \
    --node-modules "$node_dir/node_modules" --override SITE="$name's site" &
  worker_pids[$name]=$!
done
wait_for 20 "leader election" has_leader
say "Leader elected: $(leader)"

say "Enabling all seven topologies: the leader assigns them by weight"
cli enable "${uuids[@]}" >/dev/null
wait_for 30 "all topologies running" all_enabled_running
say "All seven running; load per worker (sum of weights):"
load_summary | indent
say "Each is a child process of its worker:"
show_processes | indent

victim=$(leader)
moved=$(cli list | awk -v w="$victim" 'NR > 1 && $4 == w && $2 == "running" { printf "%s ", $1 }')
victim_pids=$(for uuid in $moved; do printf '%s ' "$(topology_pid "$uuid")"; done)
say "Killing the leader $victim with SIGKILL (it ran: ${moved% }; pids ${victim_pids% })"
killed_at=$(date +%s)
kill -9 "${worker_pids[$victim]}"
wait "${worker_pids[$victim]}" 2>/dev/null || true
unset "worker_pids[$victim]"
processes_gone() {
  local pid
  for pid in $victim_pids; do ! kill -0 "$pid" 2>/dev/null || return 1; done
}
wait_for 5 "the end of $victim's processes" processes_gone
say "$victim's processes died with it: ${victim_pids% } no longer exist"
new_leader() { local l; l=$(leader); [[ -n $l && $l != "$victim" ]]; }
# The dead leader's row still says alive and leader until the new leader's
# housekeeping notices its silence: wait for what only recovery can do.
moved_away() {
  local uuid
  for uuid in $moved; do
    [[ $(topology_field "$uuid" 2) == running && $(topology_field "$uuid" 4) != "$victim" ]] ||
      return 1
  done
}
wait_for 30 "a new leader" new_leader
say "New leader: $(leader), $(($(date +%s) - killed_at)) s after the kill"
wait_for 45 "recovery of $victim's topologies" moved_away
say "$victim's topologies run elsewhere, $(($(date +%s) - killed_at)) s after the kill:"
load_summary | indent
show_processes | indent

stopped=clickstream
say "Stopping topology $stopped through the CLI: qtopology-mysql stop $stopped"
cli stop "$stopped" | indent
wait_for 15 "stop of $stopped" is_stopped "$stopped"
say "$stopped is stopped (disabled, unassigned); its process got SIGTERM and ended"

crashing=flaky-parser
say "Registering and enabling $crashing: it crashes after three lines (restart: max 1 in 60 s)"
cli register "$crashing" "$root/apps/demo/failing/$crashing.json" >/dev/null
cli enable "$crashing" >/dev/null
in_error() { [[ $(topology_field "$1" 2) == error ]]; }
wait_for 20 "$crashing in error" in_error "$crashing"
say "$crashing crashed twice and is in error:"
cli details "$crashing" | awk '$1 == "status:" || $1 == "error:"' | indent

say "Shutting the workers down: SIGTERM to one, the CLI's shutdown-worker to the other"
names=("${!worker_pids[@]}")
kill -TERM "${worker_pids[${names[0]}]}"
cli shutdown-worker "${names[1]}" | indent
for name in "${names[@]}"; do
  wait_for 20 "exit of $name" worker_gone "$name"
  if wait "${worker_pids[$name]}"; then
    say "$name exited cleanly"
  else
    fail "$name exited with status $?"
  fi
  unset "worker_pids[$name]"
done

say "Final state"
cli workers | indent
echo
cli list | indent
if ((${QTOPOLOGY_DEMO_HOLD_S:-0} > 0)); then
  say "Keeping the final state up for ${QTOPOLOGY_DEMO_HOLD_S} s: $(dashboard_url)"
  sleep "$QTOPOLOGY_DEMO_HOLD_S"
fi
kill -TERM "$dashboard_pid"
wait "$dashboard_pid" || fail "the dashboard exited with status $?"
dashboard_pid=
"$root/scripts/private-mariadb.sh" stop "$server_dir"
trap - EXIT
say "Stopped MariaDB. Demo done in $(($(date +%s) - started_at)) s."
