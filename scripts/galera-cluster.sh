#!/usr/bin/env bash
# A private three-node MariaDB Galera cluster on loopback, for the galera test
# tier: no system service, every node with its own data dir, SQL port, group
# communication (gcomm), IST and SST ports.
#
#   galera-cluster.sh start DIR      fresh cluster; prints the three URLs
#   galera-cluster.sh stop DIR
#   galera-cluster.sh urls DIR
#   galera-cluster.sh kill DIR N     SIGKILL node N (1-3)
#   galera-cluster.sh rejoin DIR N   start node N again, wait until it is Synced
#   galera-cluster.sh status DIR     size and state as seen by every live node
#
# Every start wipes the data dirs: a Galera cluster stopped all at once only
# bootstraps again from the node that left last, which a fresh cluster avoids.
set -euo pipefail

action=${1:?usage: galera-cluster.sh start|stop|urls|kill|rejoin|status DIR [N]}
dir=$(mkdir -p "${2:?missing DIR}" && cd "$2" && pwd)
provider=${QTOPOLOGY_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
nodes=(1 2 3)

die() {
  echo "galera-cluster: $*" >&2
  exit 1
}

# A port nothing listens on and that this cluster does not use yet.
taken=" "
# Below the kernel's ephemeral range: a port picked there can be taken by any
# client connection (the tests open thousands) before the node binds it.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
(( ephemeral_low > 11000 )) || ephemeral_low=32768
free_port() {
  local candidate
  for _ in $(seq 1 200); do
    candidate=$((10000 + RANDOM % (ephemeral_low - 10000)))
    [[ "$taken" == *" $candidate "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      taken+="$candidate "
      echo "$candidate"
      return
    fi
  done
  die "found no free port"
}

# rsync state transfer refuses to run as root, and mariadbd started as root
# drops to the user it is given: the nodes run as `mysql` when we are root.
run_user() {
  if [[ $(id -u) -eq 0 ]]; then echo mysql; else id -un; fi
}

# Where the nodes live: under DIR when the run user can reach it, else in a
# temporary dir (a build tree under a root-only path is not reachable).
node_root() {
  if [[ -f "$dir/node-root" ]]; then
    cat "$dir/node-root"
    return
  fi
  local root="$dir/nodes" user
  user=$(run_user)
  mkdir -p "$root"
  if [[ $(id -u) -eq 0 ]] && ! runuser -u "$user" -- test -x "$root"; then
    root=$(mktemp -d /tmp/qtopology-galera.XXXXXX)
    chmod 755 "$root"
  fi
  echo "$root" >"$dir/node-root"
  echo "$root"
}

node_dir() { echo "$(node_root)/node$1"; }
port_of() { cat "$(node_dir "$1")/$2"; }

sql() {
  local n=$1
  shift
  mariadb --no-defaults --socket="$(node_dir "$n")/mysqld.sock" -uroot -N -B -e "$@"
}

alive() {
  local pidfile
  pidfile="$(node_dir "$1")/mysqld.pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

status_value() {
  sql "$1" "SHOW STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

write_config() {
  local n=$1 d cluster_address="gcomm://" sep=""
  d=$(node_dir "$n")
  for m in "${nodes[@]}"; do
    cluster_address+="${sep}127.0.0.1:$(port_of "$m" gcomm_port)"
    sep=","
  done
  # A defaults file rather than flags: the SST scripts read it too.
  cat >"$d/my.cnf" <<EOF
[mysqld]
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/mysqld.log
port=$(port_of "$n" sql_port)
bind-address=127.0.0.1
user=$(run_user)
skip-name-resolve
max-connections=500
innodb-buffer-pool-size=64M
innodb-log-file-size=32M
# What Galera requires.
binlog-format=ROW
default-storage-engine=InnoDB
innodb-autoinc-lock-mode=2
# An acknowledged commit is on every node; the local flush only has to
# survive the process being killed, not the machine.
innodb-flush-log-at-trx-commit=2
wsrep-on=ON
wsrep-provider=$provider
wsrep-cluster-name=qtopology-test
wsrep-cluster-address=$cluster_address
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1:$(port_of "$n" gcomm_port)
wsrep-node-incoming-address=127.0.0.1:$(port_of "$n" sql_port)
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:$(port_of "$n" sst_port)
wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$(port_of "$n" gcomm_port);ist.recv_addr=127.0.0.1:$(port_of "$n" ist_port);gcache.size=32M
EOF
}

# Starts node N in the background; extra arguments go to mariadbd.
launch() {
  local n=$1 d
  shift
  d=$(node_dir "$n")
  rm -f "$d/mysqld.pid"
  mariadbd --defaults-file="$d/my.cnf" "$@" >>"$d/stdout.log" 2>&1 &
}

# Waits until node N answers, sees `size` members and is Synced.
wait_synced() {
  local n=$1 size=$2 limit=${3:-600}  # tenths of a second
  for _ in $(seq 1 "$limit"); do
    if [[ "$(status_value "$n" wsrep_cluster_size)" == "$size" &&
      "$(status_value "$n" wsrep_local_state_comment)" == "Synced" ]]; then
      return 0
    fi
    # Gave up only on a node that wrote its pid and then died: a pid file
    # being written is briefly empty, which would look like a dead node.
    if [[ -s "$(node_dir "$n")/mysqld.pid" ]] && ! alive "$n"; then
      sleep 0.5
      alive "$n" || break
    fi
    sleep 0.1
  done
  echo "galera-cluster: node $n did not reach Synced in a cluster of $size" >&2
  tail -30 "$(node_dir "$n")/mysqld.log" >&2 || true
  return 1
}

print_urls() {
  for n in "${nodes[@]}"; do
    echo "mysql://qtopology:qtopology@127.0.0.1:$(port_of "$n" sql_port)/"
  done | tee "$dir/urls"
}

start() {
  command -v mariadbd >/dev/null || die "no mariadbd (apt-get install mariadb-server)"
  [[ -f "$provider" ]] || die "no Galera provider at $provider (apt-get install galera-4)"
  command -v rsync >/dev/null || die "no rsync, needed for state transfer (apt-get install rsync)"
  stop
  local root user
  rm -f "$dir/node-root"
  root=$(node_root)
  user=$(run_user)
  for n in "${nodes[@]}"; do
    rm -rf "$root/node$n"
    mkdir -p "$root/node$n/data"
    for p in sql_port gcomm_port ist_port sst_port; do free_port >"$root/node$n/$p"; done
  done
  for n in "${nodes[@]}"; do write_config "$n"; done
  [[ $(id -u) -ne 0 ]] || chown -R "$user:" "$root"

  # Only the first node needs system tables: the others receive everything
  # by state transfer when they join.
  mariadb-install-db --defaults-file="$(node_dir 1)/my.cnf" --auth-root-authentication-method=normal \
    --skip-test-db >"$(node_dir 1)/install.log" 2>&1 ||
    { cat "$(node_dir 1)/install.log" >&2; exit 1; }
  launch 1 --wsrep-new-cluster
  wait_synced 1 1
  # Created before the others join, so their state transfer carries it.
  sql 1 "CREATE USER IF NOT EXISTS 'qtopology'@'%' IDENTIFIED BY 'qtopology';
         GRANT ALL ON *.* TO 'qtopology'@'%' WITH GRANT OPTION;"
  launch 2
  launch 3
  wait_synced 2 3
  wait_synced 3 3
  wait_synced 1 3
  print_urls
}

stop() {
  [[ -f "$dir/node-root" ]] || return 0
  local pids=()
  for n in "${nodes[@]}"; do
    if alive "$n"; then
      pids+=("$(cat "$(node_dir "$n")/mysqld.pid")")
    fi
  done
  ((${#pids[@]})) || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 300); do
    local running=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
    ((running)) || return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

kill_node() {
  local n=${1:?missing node number}
  alive "$n" || die "node $n is not running"
  kill -9 "$(cat "$(node_dir "$n")/mysqld.pid")"
  while alive "$n"; do sleep 0.05; done
}

rejoin() {
  local n=${1:?missing node number}
  alive "$n" && die "node $n is running"
  # Rejoining while the others still count the dead incarnation in their
  # view takes several view changes; waiting until they dropped it is faster.
  for m in "${nodes[@]}"; do
    [[ $m == "$n" ]] || ! alive "$m" || wait_synced "$m" 2 300
  done
  launch "$n"
  wait_synced "$n" 3 1200
}

status() {
  for n in "${nodes[@]}"; do
    if alive "$n"; then
      echo "node$n size=$(status_value "$n" wsrep_cluster_size)" \
        "state=$(status_value "$n" wsrep_local_state_comment)"
    else
      echo "node$n down"
    fi
  done
}

case "$action" in
  start) start ;;
  stop) stop ;;
  urls) print_urls ;;
  kill) kill_node "${3:-}" ;;
  rejoin) rejoin "${3:-}" ;;
  status) status ;;
  *) die "usage: galera-cluster.sh start|stop|urls|kill|rejoin|status DIR [N]" ;;
esac
