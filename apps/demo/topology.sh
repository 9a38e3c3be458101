#!/usr/bin/env bash
# A demo topology, as qtopology-worker runs it: one line on stdout per
# interval until SIGTERM, then a goodbye line and exit 0.
#
#   topology.sh [INTERVAL_S [CRASH_AFTER_LINES]]
#
# With CRASH_AFTER_LINES it fails instead: a reason on stderr and exit code 3
# (the worker reports it in the topology's error).
#
# It starts no process of its own (it waits with `read -t` on a pipe nobody
# writes to): when its worker dies and the kernel kills it, nothing is left.
set -u
interval=${1:-1}
crash_after=${2:-0}
trap 'echo "$QTOPOLOGY_UUID on $QTOPOLOGY_WORKER: SIGTERM after $lines lines, stopping"; exit 0' TERM
exec 3<> <(:)
lines=0
while :; do
  lines=$((lines + 1))
  echo "$QTOPOLOGY_UUID on $QTOPOLOGY_WORKER (pid $$): line $lines"
  if ((crash_after > 0 && lines >= crash_after)); then
    echo "$QTOPOLOGY_UUID: reading $QTOPOLOGY_CONFIG" >&2
    echo "$QTOPOLOGY_UUID: fatal: input queue closed after $lines lines" >&2
    exit 3
  fi
  read -r -t "$interval" -u 3 || true
done
