#!/usr/bin/env bash
# The hostile server's credentials, made fresh in DIR by the tier's set-up
# test: a CA, a server certificate for IP:127.0.0.1 it signed, and the RSA key
# pair caching_sha2_password's key exchange uses.
#
#   make-credentials.sh DIR
set -euo pipefail
dir=${1:?usage: make-credentials.sh DIR}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=qtopology hostile ca" \
  -keyout ca-key.pem -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=qtopology hostile server" \
  -keyout server-key.pem -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
  -extfile server.ext -out server.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-private.pem 2>/dev/null
openssl pkey -in rsa-private.pem -pubout -out rsa-public.pem 2>/dev/null
echo "hostile-server credentials in $dir"
