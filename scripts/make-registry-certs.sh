#!/usr/bin/env bash
# Prepares a TLS docker-registry for HOST:PORT in DIR, for Debian's
# docker-registry (`docker-registry serve DIR/config.yml`) or registry:2:
#   DIR/ca.crt, ca.key              a CA of its own, made once (10 years)
#   DIR/registry.crt, registry.key  the registry's certificate, signed by that CA,
#                                   with subjectAltName HOST (remade when it does not
#                                   cover HOST, or has less than 30 days left)
#   DIR/htpasswd                    with --user: bcrypt (htpasswd -B) for that user, whose
#                                   password is read from --password-file or, without one,
#                                   made at random into DIR/registry.password
#   DIR/config.yml                  storage in DIR/data (or --data), TLS, htpasswd auth
# and installs DIR/ca.crt as /etc/docker/certs.d/HOST:PORT/ca.crt, where the
# Docker engine looks for the authorities it trusts for that registry (root;
# skip with --no-trust, e.g. when the engine is on another machine: copy
# ca.crt there). Safe to run again.
#
# Usage: make-registry-certs.sh [options] DIR HOST:PORT
#   --listen ADDR         the registry's listen address (default 127.0.0.1:PORT for
#                         localhost or 127.0.0.1, else :PORT, every interface)
#   --user NAME           require htpasswd authentication for NAME
#   --password-file FILE  NAME's password (one line)
#   --data DIR            where the registry keeps images (default DIR/data)
#   --config-dir DIR      the paths written into config.yml (default DIR): where DIR
#                         is mounted in the registry's container, e.g. /etc/docker/registry
#   --no-trust            do not touch /etc/docker/certs.d
set -euo pipefail

usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^set -e/p' "$0" | sed '$d' >&2; exit 2; }
listen= user= password_file= data= config_dir= trust=true
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) listen=${2:?}; shift 2 ;;
    --user) user=${2:?}; shift 2 ;;
    --password-file) password_file=${2:?}; shift 2 ;;
    --data) data=${2:?}; shift 2 ;;
    --config-dir) config_dir=${2:?}; shift 2 ;;
    --no-trust) trust=false; shift ;;
    -h|--help) usage ;;
    -*) echo "make-registry-certs: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || usage
dir=$(realpath -m "$1")
endpoint=$2
host=${endpoint%:*}
port=${endpoint##*:}
if [ "$host" = "$endpoint" ] || ! [[ "$port" =~ ^[0-9]+$ ]] || [ -z "$host" ]; then
  echo "make-registry-certs: expected HOST:PORT, got '$endpoint'" >&2
  exit 2
fi
if [ -n "$password_file" ] && [ -z "$user" ]; then
  echo "make-registry-certs: --password-file needs --user" >&2
  exit 2
fi
config_dir=${config_dir:-$dir}
data=${data:-$config_dir/data}
case "$host" in
  localhost|127.0.0.1) listen=${listen:-127.0.0.1:$port}; names="DNS:localhost,IP:127.0.0.1,IP:::1" ;;
  *[!0-9.]*) listen=${listen:-:$port}; names="DNS:$host" ;;
  *) listen=${listen:-:$port}; names="IP:$host" ;;
esac
check=(-checkhost "$host")
[[ "$host" =~ ^[0-9.]+$ ]] && check=(-checkip "$host")

mkdir -p "$dir"
[ "$config_dir" = "$dir" ] && mkdir -p "$data"
umask 077

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -newkey rsa:4096 -nodes -days 3650 -subj "/CN=slipway registry CA $host" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  rm -f "$dir/registry.crt"  # signed by a CA that is gone
fi
if [ ! -s "$dir/registry.crt" ] || [ ! -s "$dir/registry.key" ] ||
  ! openssl x509 -in "$dir/registry.crt" -noout "${check[@]}" | grep -q "does match" ||
  ! openssl x509 -in "$dir/registry.crt" -noout -checkend $((30 * 86400)) >/dev/null; then
  openssl req -x509 -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -newkey rsa:2048 -nodes -days 825 -subj "/CN=$host" \
    -addext "subjectAltName=$names" -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment" -addext "extendedKeyUsage=serverAuth" \
    -keyout "$dir/registry.key" -out "$dir/registry.crt" 2>/dev/null
fi
chmod 644 "$dir/ca.crt" "$dir/registry.crt"

auth=
if [ -n "$user" ]; then
  if [ -z "$password_file" ]; then
    password_file=$dir/registry.password
    [ -s "$password_file" ] || openssl rand -hex 24 >"$password_file"
  fi
  head -n 1 "$password_file" | tr -d '\r\n' | htpasswd -iBc "$dir/htpasswd" "$user" 2>/dev/null
  chmod 644 "$dir/htpasswd"  # bcrypt hashes; the registry's user reads it
  auth="auth:
  htpasswd:
    realm: slipway-registry
    path: $config_dir/htpasswd"
fi

secret_file=$dir/http.secret
[ -s "$secret_file" ] || openssl rand -hex 32 >"$secret_file"
cat >"$dir/config.yml" <<YAML
# Written by slipway's scripts/make-registry-certs.sh for $host:$port.
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: $listen
  secret: $(cat "$secret_file")
  tls:
    certificate: $config_dir/registry.crt
    key: $config_dir/registry.key
$auth
YAML

if $trust; then
  trust_dir=/etc/docker/certs.d/$host:$port
  # Readable by all, as Docker documents it: slipwayd, as the slipway user,
  # reads the same CA for its registry lookups (whatever root's umask is).
  (umask 022 && mkdir -p "$trust_dir")
  install -m 0644 "$dir/ca.crt" "$trust_dir/ca.crt"
fi
