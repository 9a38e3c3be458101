#!/usr/bin/env bash
# The TLS credentials of a test server, made fresh in DIR: a CA the test
# owns (ca.pem, ca-key.pem), a server certificate it signed for SAN
# (server.pem, server-key.pem; SAN as subjectAltName spells it, e.g.
# IP:127.0.0.1), and for each OTHER_CA a CA that signed nothing
# (OTHER_CA.pem), for the tests that must see a wrong chain refused.
#
#   make-certificates.sh DIR SAN [OTHER_CA...]
set -euo pipefail
dir=${1:?usage: make-certificates.sh DIR SAN [OTHER_CA...]}
san=${2:?usage: make-certificates.sh DIR SAN [OTHER_CA...]}
shift 2
mkdir -p "$dir"
for ca in ca "$@"; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=qtopology test $ca" \
    -keyout "$dir/$ca-key.pem" -out "$dir/$ca.pem" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -subj "/CN=qtopology test server" \
  -keyout "$dir/server-key.pem" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=%s\n' "$san" >"$dir/server.ext"
openssl x509 -req -days 2 -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
  -CAcreateserial -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
# The servers may run as another user than the one that made them.
chmod 0644 "$dir"/*.pem
