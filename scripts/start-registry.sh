#!/usr/bin/env bash
# Starts Debian's docker-registry on 127.0.0.1:PORT over TLS, with a certificate
# made here by openssl (subjectAltName localhost and 127.0.0.1) that the Docker
# engine trusts through /etc/docker/certs.d/localhost:PORT/ca.crt.
# Usage: start-registry.sh DIR [PORT]   (DIR keeps the certificate, config and data)
set -euo pipefail
dir=$(realpath -m "${1:?usage: start-registry.sh DIR [PORT]}")
port=${2:-5443}
mkdir -p "$dir/data"

if [ ! -s "$dir/registry.crt" ]; then
  openssl req -x509 -newkey rsa:4096 -nodes -days 825 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/registry.key" -out "$dir/registry.crt" 2>/dev/null
  chmod 600 "$dir/registry.key"
fi
cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $dir/registry.crt
    key: $dir/registry.key
YAML
mkdir -p "/etc/docker/certs.d/localhost:$port"
cp "$dir/registry.crt" "/etc/docker/certs.d/localhost:$port/ca.crt"

if curl -fsS --cacert "$dir/registry.crt" "https://localhost:$port/v2/" >/dev/null 2>&1; then
  exit 0  # already running
fi
nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
echo $! >"$dir/registry.pid"
for _ in $(seq 1 50); do
  if curl -fsS --cacert "$dir/registry.crt" "https://localhost:$port/v2/" >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.2
done
echo "start-registry: the registry did not answer on https://localhost:$port/v2/:" >&2
tail -n 20 "$dir/registry.log" >&2 || true
exit 1
