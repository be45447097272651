#!/usr/bin/env bash
# The package under a real systemd. A Debian 12 root filesystem (debootstrap
# --variant=minbase, with systemd and the libraries the .deb depends on) is
# imported as an image and booted in a container whose PID 1 is systemd, on
# the host's network (every address is loopback) and the host's Docker
# engine (its socket). The .deb is installed there with dpkg -i, whose
# postinst enables and starts slipway.socket and slipway.service. Then:
#   - the unit is Type=notify (READY=1 came, with a status line), its watchdog
#     is armed, and slipwayd serves on the socket systemd passed;
#   - `systemctl stop slipway` while a build runs: the build finishes and its
#     image is in the registry (KillMode=mixed: SIGTERM reaches slipwayd only);
#   - a signed delivery every 50 ms through `systemctl restart slipway`: every
#     one is answered 2xx and recorded (slipway.socket keeps the listening
#     socket, so they wait in its backlog instead of being refused).
# Everything it makes (container, images, registry, trust entry, folders) is
# removed at the end. The root filesystem is kept in BUILD_DIR as a tarball,
# made again when the package's dependencies change.
# Usage: systemd_unit_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "${1:?usage: systemd_unit_test.sh BUILD_DIR SOURCE_DIR}")
source_dir=$(realpath "${2:?usage: systemd_unit_test.sh BUILD_DIR SOURCE_DIR}")

fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "this test runs debootstrap and a systemd container and needs root (scripts/test.sh runs as root)"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (scripts/ensure-docker.sh starts one)"

work=$(mktemp -d)
chmod 0755 "$work"
tag=$$
image=slipway-systemd-test:$tag
container=slipway-systemd-test-$tag
base=slipway-systemd-test-base:$tag
registry_port= registry_pid= sender=
cleanup() {
  if [ -n "$sender" ]; then kill "$sender" 2>/dev/null || true; wait "$sender" 2>/dev/null || true; fi
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker rmi -f "$image" "$base" >/dev/null 2>&1 || true
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  if [ -n "$registry_port" ]; then
    docker images --format '{{.Repository}}:{{.Tag}}' | grep "^localhost:$registry_port/" | xargs -r docker rmi -f >/dev/null 2>&1 || true
    rm -rf "/etc/docker/certs.d/localhost:$registry_port"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
# Runs a command in the container (with this script's stdin).
inside() { docker exec -i "$container" "$@"; }

echo "== the package"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack could not build the package"; }
deb=$(ls "$work"/cpack/slipway_*.deb)
# Its dependencies, without versions or alternatives: what the root filesystem must hold for dpkg -i.
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/[[:space:]]//g' | grep -v '^$' | paste -sd,)
packages="systemd,systemd-sysv,dbus,ca-certificates,$depends"

echo "== the root filesystem ($packages)"
rootfs="$build/systemd-test-rootfs-$(printf '%s' "$packages" | sha256sum | cut -c1-12).tar"
if [ ! -s "$rootfs" ]; then
  rm -f "$build"/systemd-test-rootfs-*.tar
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  debootstrap --variant=minbase --include="$packages" bookworm "$work/rootfs" "${mirror:-http://deb.debian.org/debian}" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log"; fail "debootstrap failed"; }
  tar -C "$work/rootfs" -cf "$rootfs.new" . && mv "$rootfs.new" "$rootfs"
  rm -rf "$work/rootfs"
fi
docker import "$rootfs" "$image" >/dev/null

echo "== a TLS registry and a repository to build"
registry_port=$(free_port)
"$source_dir/scripts/make-registry-certs.sh" "$work/registry" "localhost:$registry_port" >/dev/null
docker-registry serve "$work/registry/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 50); do
  curl -fsS --cacert "$work/registry/ca.crt" "https://localhost:$registry_port/v2/" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS --cacert "$work/registry/ca.crt" "https://localhost:$registry_port/v2/" >/dev/null ||
  { cat "$work/registry.log"; fail "the registry did not start"; }
# A base image made here, nothing pulled.
mkdir -p "$work/base/bin"
cp /bin/busybox "$work/base/bin/" && ln -s busybox "$work/base/bin/sh"
tar -C "$work/base" -c . | docker import - "$base" >/dev/null
repo="$work/repo"
service="systemd-$tag"
mkdir -p "$repo/$service"
git -C "$repo" init --quiet --initial-branch=main
# Slow enough for the stop to come while it runs.
printf 'FROM %s\nRUN sleep 6 && echo slow > /done\n' "$base" >"$repo/$service/Dockerfile"
printf '[{"service_name": "%s", "type": "Docker", "version": "1"}]\n' "$service" >"$repo/images.json"
git -C "$repo" add --all
git -C "$repo" -c user.name=test -c user.email=test@slipway.invalid commit --quiet -m build
sha=$(git -C "$repo" rev-parse HEAD)
chmod -R a+rX "$repo"

echo "== systemd in a container"
docker run -d --name "$container" --network host --cap-add SYS_ADMIN \
  --tmpfs /run --tmpfs /run/lock --tmpfs /tmp -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
  -v /var/run/docker.sock:/var/run/docker.sock -v "$repo:/srv/repo:ro" \
  --mount "type=bind,source=/etc/docker/certs.d/localhost:$registry_port,target=/etc/docker/certs.d/localhost:$registry_port,readonly" \
  "$image" /lib/systemd/systemd >/dev/null
state=
for _ in $(seq 1 100); do
  state=$(inside systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.2
done
case "$state" in running|degraded) ;; *) fail "systemd in the container did not come up ($state)" ;; esac

port=$(free_port)
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
# Before the package: the engine's group (the socket's GID, which the unit's
# SupplementaryGroups=docker must match), the configuration (kept by dpkg as
# the conffile) and the socket on the test's port. The secret is named by
# absolute path: systemd 252 in a container cannot mount the credentials
# folder that LoadCredential= fills (deb_package_test.sh covers credentials).
inside groupadd -g "$(stat -c %g /var/run/docker.sock)" docker
inside mkdir -p /etc/slipway /etc/systemd/system/slipway.socket.d
printf '%s\n' "$secret" | inside sh -c 'cat > /etc/slipway/test-webhook.secret'
inside sh -c 'cat > /etc/slipway/slipway.ini' <<EOF
[server]
listen = 127.0.0.1:$port
[webhook]
secret_file = /etc/slipway/test-webhook.secret
[registry]
host = localhost:$registry_port
[builder]
backend = api
stop_timeout = 120
[repo.demo]
name = acme/demo
url = file:///srv/repo
EOF
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$port" |
  inside sh -c 'cat > /etc/systemd/system/slipway.socket.d/test.conf'
docker cp "$deb" "$container:/var/tmp/slipway.deb"
inside dpkg -i --force-confold /var/tmp/slipway.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
# The secret belongs to the service's user, which the package made, and so
# does the repository (libgit2 fetches only from a repository its user owns).
inside sh -c 'chown slipway:slipway /etc/slipway/test-webhook.secret && chmod 0400 /etc/slipway/test-webhook.secret'
chown -R "$(inside id -u slipway)" "$repo"
journal() { inside journalctl -u slipway.service -u slipway.socket --no-pager -n 60 || true; }
inside systemctl restart slipway.service || { journal; fail "slipway.service did not start"; }
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$url/healthz" >/dev/null || { journal; fail "slipwayd does not answer on $url"; }

echo "== Type=notify, the watchdog, the socket from systemd"
show() { inside systemctl show slipway.service -p "$1" --value; }
[ "$(show Type)" = notify ] || fail "the unit is Type=$(show Type)"
[ "$(show WatchdogUSec)" != 0 ] && [ "$(show WatchdogUSec)" != infinity ] || fail "no watchdog: $(show WatchdogUSec)"
[ "$(show KillMode)" = mixed ] || fail "KillMode=$(show KillMode)"
[[ "$(show StatusText)" == "listening on http://127.0.0.1:$port (a socket from systemd)" ]] ||
  fail "READY=1 came without the status, or not on systemd's socket: '$(show StatusText)'"
echo "ok: $(show StatusText)"

# Sends a signed delivery; prints the HTTP status.
deliver() { # EVENT DELIVERY_ID BODY
  local signature
  signature=$(printf '%s' "$3" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
  curl -sS -o /dev/null -w '%{http_code}' --max-time 60 -X POST "$url/hooks/github" \
    -H "Content-Type: application/json" -H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: $2" \
    -H "X-Hub-Signature-256: sha256=$signature" --data-binary "$3" || echo "no answer"
}

echo "== systemctl stop with a build running"
merged=$(printf '{"action":"closed","number":1,"pull_request":{"number":1,"merged":true,"merge_commit_sha":"%s","base":{"ref":"main"}},"repository":{"full_name":"acme/demo"}}' "$sha")
status=$(deliver pull_request "merge-$tag" "$merged")
[ "$status" = 202 ] || fail "the merge was answered $status"
running=false
for _ in $(seq 1 200); do
  if curl -fsS "$url/api/builds?state=running" | grep -q "\"service\":\"$service\""; then running=true; break; fi
  sleep 0.1
done
$running || { journal; fail "the build never started"; }
inside systemctl stop slipway.service
stopped=$(inside systemctl is-active slipway.service || true)
[ "$stopped" = inactive ] || { journal; fail "slipway.service is $stopped after the stop, not inactive"; }
curl -fsS --cacert "$work/registry/ca.crt" "https://localhost:$registry_port/v2/$service/tags/list" | grep -q '"1"' ||
  { journal; fail "the build running at the stop did not push $service:1"; }
inside systemctl start slipway.service
builds=$(curl -fsS "$url/api/builds?service=$service")
echo "$builds" | grep -q '"state":"succeeded"' || { echo "$builds"; fail "the build is not recorded succeeded"; }
echo "$builds" | grep -q '"attempt":1' || { echo "$builds"; fail "the build ran again after the stop"; }
echo "ok: the build finished during the stop and was pushed"

echo "== deliveries every 50 ms through systemctl restart"
ping='{"zen":"Keep it logically awesome.","hook_id":1,"repository":{"full_name":"acme/demo"}}'
mkdir "$work/answers"
(
  for i in $(seq 1 60); do
    (deliver ping "restart-$tag-$i" "$ping" >"$work/answers/$i") &
    sleep 0.05
  done
  wait
) &
sender=$!
started() { inside journalctl -u slipway.service --no-pager | grep -c "Started slipway.service" || true; }
before=$(started)
sleep 0.5
inside systemctl restart slipway.service
wait "$sender"
refused=0
for i in $(seq 1 60); do
  answer=$(cat "$work/answers/$i")
  case "$answer" in 2??) ;; *) echo "delivery restart-$tag-$i: $answer"; refused=$((refused + 1)) ;; esac
done
[ "$refused" -eq 0 ] || { journal; fail "$refused of 60 deliveries sent through the restart were not answered 2xx"; }
recorded=$(curl -fsS "$url/api/deliveries?limit=500" | grep -o "\"restart-$tag-[0-9]*\"" | sort -u | wc -l)
[ "$recorded" -eq 60 ] || fail "$recorded of 60 deliveries answered 2xx were recorded"
[ "$(started)" -eq $((before + 1)) ] || fail "slipway.service did not restart once while the deliveries came"
echo "ok: 60 deliveries through the restart, each answered 2xx and recorded"
echo "PASS"
