#!/usr/bin/env bash
# Starts the private server of one field configuration in DIR (see
# CMakeLists.txt) and writes DIR/url, the URL the tests connect with.
#
#   start-field-server.sh CONFIG DIR
set -euo pipefail
config=${1:?usage: start-field-server.sh CONFIG DIR}
dir=$(mkdir -p "${2:?missing DIR}" && cd "$2" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)

# The test's CA, a second CA that signed nothing the servers use, and a
# server certificate for NAME (subjectAltName, e.g. IP:127.0.0.1).
make_certificates() {
  local certs="$dir/certs"
  "$root/tests/support/make-certificates.sh" "$certs" "$1" other-ca
  tls_options=(--ssl-ca="$certs/ca.pem" --ssl-cert="$certs/server.pem"
    --ssl-key="$certs/server-key.pem" --require-secure-transport=ON)
}

options=()
query=""
case "$config" in
  latin1) ;;  # the server's built-in defaults: latin1, no binary log, no TLS
  binlog) options=(--log-bin="$dir/binlog" --server-id=1) ;;
  mysql8-sql-mode)
    options=(--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION) ;;
  ansi) options=(--sql-mode=ANSI) ;;
  no-backslash-escapes)
    options=(--sql-mode=STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES) ;;
  time-zone) options=(--default-time-zone=+05:30) ;;
  tls)
    make_certificates "IP:127.0.0.1"
    options=("${tls_options[@]}")
    query="?ssl_mode=VERIFY_IDENTITY&ssl_ca=$dir/certs/ca.pem" ;;
  tls-other-host)  # a certificate for another name: VERIFY_IDENTITY must refuse it
    make_certificates "DNS:db.invalid"
    options=("${tls_options[@]}")
    query="?ssl_mode=VERIFY_CA&ssl_ca=$dir/certs/ca.pem" ;;
  *) echo "start-field-server: unknown configuration '$config'" >&2; exit 2 ;;
esac

url=$("$root/scripts/private-mariadb.sh" start "$dir" -- "${options[@]}")
echo "$url$query" | tee "$dir/url"
