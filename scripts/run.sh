#!/usr/bin/env bash
# Starts slipwayd in the foreground on a fresh Debian 12 machine: installs what
# it needs, builds it, makes sure a Docker engine answers, starts a local TLS
# registry on localhost:5443, and on the first run writes a config, a webhook
# secret and a demo repository under ./state (or $SLIPWAY_STATE).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install-deps.sh
scripts/build.sh
scripts/ensure-docker.sh

state=$(realpath -m "${SLIPWAY_STATE:-$root/state}")
port=${SLIPWAY_PORT:-8080}
mkdir -p "$state"
scripts/start-registry.sh "$state/registry" 5443

if [ ! -s "$state/webhook.secret" ]; then
  (umask 077 && openssl rand -hex 32 >"$state/webhook.secret")
fi

# A repository to try slipway on: one service built FROM a busybox image made
# offline, so that nothing has to be pulled.
demo="$state/demo-repo"
if ! docker image inspect slipway-demo-base:latest >/dev/null 2>&1; then
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" && cp /bin/busybox "$rootfs/bin/" && ln -s busybox "$rootfs/bin/sh"
  tar -C "$rootfs" -c . | docker import - slipway-demo-base:latest >/dev/null
  rm -rf "$rootfs"
fi
if [ ! -d "$demo/.git" ]; then
  mkdir -p "$demo/hello"
  git -C "$demo" init -q --initial-branch=main
  printf 'FROM slipway-demo-base:latest\nCOPY greeting.txt /greeting.txt\nCMD ["/bin/busybox", "cat", "/greeting.txt"]\n' >"$demo/hello/Dockerfile"
  echo "hello from slipway" >"$demo/hello/greeting.txt"
  echo '[{"service_name": "hello", "type": "Docker", "version": "1.0.0"}]' >"$demo/images.json"
  git -C "$demo" add -A
  git -C "$demo" -c user.name=slipway -c user.email=slipway@localhost commit -qm "demo service"
fi

if [ ! -s "$state/slipway.ini" ]; then
  cat >"$state/slipway.ini" <<INI
; Written by scripts/run.sh; see etc/slipway.ini for every key.
[server]
listen = 127.0.0.1:$port

[webhook]
secret_file = $state/webhook.secret

[registry]
host = localhost:5443

[builder]
backend = cli
concurrency = 2

[storage]
state_dir = $state

[repo.demo]
name = slipway/demo
url = file://$demo
events = pull_request
branches = main
INI
fi

# The demo command must reach this daemon, whatever port and state it was given.
send="scripts/send-webhook.sh --demo"
if [ "$port" != 8080 ] || [ "$state" != "$root/state" ]; then
  send="SLIPWAY_STATE=$state SLIPWAY_URL=http://127.0.0.1:$port/hooks/github $send"
fi

cat <<MSG

slipwayd is starting on http://127.0.0.1:$port with $state/slipway.ini
  webhook endpoint   POST http://127.0.0.1:$port/hooks/github (or /ciserver/updates)
  registry           https://localhost:5443 (CA: $state/registry/ca.crt)
  send a test webhook, from another terminal:
    $send          # a merged PR of the demo repository
    curl -s http://127.0.0.1:$port/api/builds
Stop with Ctrl-C.

MSG
exec build/daemon/slipwayd --config "$state/slipway.ini"
