#!/usr/bin/env bash
# The hostile server's credentials, made fresh in DIR by the tier's set-up
# test: a CA, a server certificate for IP:127.0.0.1 it signed, and the RSA key
# pair caching_sha2_password's key exchange uses.
#
#   make-credentials.sh DIR
set -euo pipefail
dir=${1:?usage: make-credentials.sh DIR}
"$(dirname "$0")/../support/make-certificates.sh" "$dir" IP:127.0.0.1
cd "$dir"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-private.pem 2>/dev/null
openssl pkey -in rsa-private.pem -pubout -out rsa-public.pem 2>/dev/null
echo "hostile-server credentials in $dir"
