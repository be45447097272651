#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests, from Debian's
# postgresql package: initdb into DIR (which must not exist), pg_ctl start on
# a free loopback port with its socket in DIR, no system service. fsync is off
# (a test's data need not outlive the machine, only the server) unless
# --durable comes first, as the benchmarks ask, to compare like with like.
# As root the cluster runs as the postgres user (PostgreSQL refuses root).
# Prints the libpq connection string (without dbname) on stdout; stop it with
#   scripts/start-postgres.sh --stop DIR
set -euo pipefail
bin=/usr/lib/postgresql/15/bin

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

if [ "${1:-}" = "--stop" ]; then
  dir=$2
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" --pgdata="$dir/data" --wait stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi

durability="-c fsync=off -c full_page_writes=off"
if [ "${1:-}" = "--durable" ]; then
  durability=""
  shift
fi
dir=${1:?usage: start-postgres.sh [--durable] DIR | --stop DIR}
if [ ! -x "$bin/initdb" ]; then
  echo "start-postgres: $bin/initdb is missing (scripts/install-deps.sh installs Debian's postgresql)" >&2
  exit 1
fi
mkdir -p "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
as_owner "$bin/initdb" --pgdata="$dir/data" --auth=trust --username=postgres --no-sync \
  --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
  echo "start-postgres: initdb failed:" >&2
  cat "$dir/initdb.log" >&2
  exit 1
}
# A port nothing listens on (iproute2's ss), from the ephemeral range's neighbourhood.
for _ in $(seq 1 50); do
  port=$((20000 + RANDOM % 30000))
  [ -z "$(ss -Htln "sport = :$port")" ] && break
done
as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 start \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $durability -c max_connections=300" \
  >/dev/null || {
  echo "start-postgres: the server did not start:" >&2
  cat "$dir/server.log" >&2
  exit 1
}
echo "host=127.0.0.1 port=$port user=postgres"
