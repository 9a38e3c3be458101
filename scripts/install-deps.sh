#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12, if missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libmysqlcppconn-dev libmariadb-dev nlohmann-json3-dev libspdlog-dev
  libgtest-dev libgmock-dev
  mariadb-server mariadb-client galera-4 rsync
  # the dashboard: its HTTP(S) server (Boost.Beast, OpenSSL), openssl for the
  # tests' certificates (the field tier's too), and the browser its tests drive
  libboost-dev libssl-dev openssl chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  # The server package must not start a system service: the project runs
  # private servers of its own.
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
