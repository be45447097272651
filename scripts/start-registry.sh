#!/usr/bin/env bash
# Starts Debian's docker-registry on 127.0.0.1:PORT over TLS, with the
# certificate and config that make-registry-certs.sh makes for localhost:PORT
# (its CA is what the Docker engine trusts, in /etc/docker/certs.d/localhost:PORT/ca.crt).
# Usage: start-registry.sh DIR [PORT]   (DIR keeps the certificate, config and data)
set -euo pipefail
dir=$(realpath -m "${1:?usage: start-registry.sh DIR [PORT]}")
port=${2:-5443}
"$(dirname "$0")/make-registry-certs.sh" "$dir" "localhost:$port"

if curl -fsS --cacert "$dir/ca.crt" "https://localhost:$port/v2/" >/dev/null 2>&1; then
  exit 0  # already running
fi
nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
echo $! >"$dir/registry.pid"
for _ in $(seq 1 50); do
  if curl -fsS --cacert "$dir/ca.crt" "https://localhost:$port/v2/" >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.2
done
echo "start-registry: the registry did not answer on https://localhost:$port/v2/:" >&2
tail -n 20 "$dir/registry.log" >&2 || true
exit 1
