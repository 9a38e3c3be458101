#!/usr/bin/env bash
# Starts or stops a private MariaDB server that lives entirely inside one
# directory: no system service, no root password, its own socket and port.
# Used by the ctest fixtures, the demo and the benchmarks.
#
#   private-mariadb.sh start DIR [PORT] [-- SERVER_OPTION...]
#                                         prints the URL to use on stdout
#   private-mariadb.sh stop DIR
#   private-mariadb.sh url DIR
#
# SERVER_OPTIONs go to mariadbd after the script's own, for tests that need a
# server configured otherwise (binary log, TLS, sql_mode, time zone).
set -euo pipefail

usage="usage: private-mariadb.sh start|stop|url DIR [PORT] [-- SERVER_OPTION...]"
action=${1:?$usage}
dir=$(mkdir -p "${2:?missing DIR}" && cd "$2" && pwd)
shift 2
port=0
if [[ $# -gt 0 && "$1" != "--" ]]; then
  port=$1
  shift
fi
[[ $# -eq 0 || "$1" != "--" ]] || shift
server_options=("$@")
datadir="$dir/data"
socket="$dir/mysqld.sock"
pidfile="$dir/mysqld.pid"
log="$dir/mysqld.log"

find_server() {
  for candidate in mariadbd /usr/sbin/mariadbd mysqld /usr/sbin/mysqld; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return
    fi
  done
  echo "private-mariadb: no mariadbd found (apt-get install mariadb-server)" >&2
  exit 1
}

# A port nothing listens on; bash's /dev/tcp needs no extra tools.
# Below the kernel's ephemeral range: a port picked there can be taken by any
# client connection (the tests open thousands) before the server binds it.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
(( ephemeral_low > 11000 )) || ephemeral_low=32768
free_port() {
  local candidate
  for _ in $(seq 1 100); do
    candidate=$((10000 + RANDOM % (ephemeral_low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "private-mariadb: found no free port" >&2
  exit 1
}

# The tests connect over TCP as a password user, as production clients do;
# root stays reachable through the socket only.
print_url() {
  echo "mysql://qtopology:qtopology@127.0.0.1:$(cat "$dir/port")/" | tee "$dir/url"
}

server_alive() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start() {
  if [[ -n "${QTOPOLOGY_TEST_MYSQL_URL:-}" ]]; then
    echo "$QTOPOLOGY_TEST_MYSQL_URL"  # an external server is in use: nothing to start
    return
  fi
  if server_alive; then
    print_url
    return
  fi
  local server
  server=$(find_server)
  # mariadbd refuses to run as root unless told which user to be; running as
  # the mysql account also keeps Galera's rsync state transfer working later.
  local run_as=()
  if [[ $(id -u) -eq 0 ]]; then
    run_as=(--user=root)
  fi
  # Temporary tables in a folder of its own: servers started side by side
  # (the test tiers' fixtures) must not meet in /tmp.
  mkdir -p "$dir/tmp"
  if [[ ! -d "$datadir/mysql" ]]; then
    rm -rf "$datadir"
    mkdir -p "$datadir"
    mariadb-install-db --no-defaults --datadir="$datadir" --tmpdir="$dir/tmp" "${run_as[@]}" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
  fi
  # A restart keeps its port, so clients can reconnect to the same address.
  if [[ "$port" == 0 && -f "$dir/port" ]]; then
    port=$(cat "$dir/port")
  fi
  [[ "$port" != 0 ]] || port=$(free_port)
  echo "$port" >"$dir/port"
  # Durable InnoDB settings: an acknowledged commit must survive SIGKILL.
  "$server" --no-defaults --datadir="$datadir" --tmpdir="$dir/tmp" "${run_as[@]}" \
    --socket="$socket" --port="$port" --bind-address=127.0.0.1 \
    --pid-file="$pidfile" --log-error="$log" \
    --innodb-flush-log-at-trx-commit=1 --sync-binlog=1 \
    --innodb-buffer-pool-size=256M --max-connections=500 \
    --skip-name-resolve "${server_options[@]}" >/dev/null 2>&1 &
  for _ in $(seq 1 300); do
    if mariadb-admin --no-defaults --socket="$socket" -uroot ping >/dev/null 2>&1; then
      mariadb --no-defaults --socket="$socket" -uroot -e \
        "CREATE USER IF NOT EXISTS 'qtopology'@'%' IDENTIFIED BY 'qtopology';
         GRANT ALL ON *.* TO 'qtopology'@'%' WITH GRANT OPTION;"
      print_url
      return
    fi
    sleep 0.1
  done
  echo "private-mariadb: server did not start; see $log" >&2
  tail -20 "$log" >&2 || true
  exit 1
}

stop() {
  if server_alive; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || return 0
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url) print_url ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
