#!/usr/bin/env bash
# One service on two platforms (linux/amd64 and linux/arm64, under Debian's
# qemu-user-static) against the same service on one, and against doing it by
# hand: docker build --platform and docker push for each platform, then
# buildah manifest create, add and push (Debian's buildah: the docker CLI's
# own `docker manifest push` is reset by docker-registry here). Each run merges a new commit that changes
# the service and bumps its version, so every run builds. Timed from the
# signed webhook to the job's end (slipwayd) and from git clone to the last
# docker rmi (by hand). Writes bench/results/multi-platform.md.
#
# Usage: bench/multi_platform.sh [RUNS (5)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
source bench/common.sh

bench_pipeline_setup multi-platform
scripts/ensure-emulation.sh
scripts/fetch-busybox-arm64.sh build/tools
pids=()
port=$(free_port)
registry=localhost:$port
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  [ -s "$work/registry/registry.pid" ] && stop_pid "$(cat "$work/registry/registry.pid")"
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^$registry/" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  buildah manifest rm "slipway-bench-list-$$" >/dev/null 2>&1 || true
  rm -rf "/etc/docker/certs.d/$registry"
  rm -rf "$work"
}
trap cleanup EXIT
scripts/start-registry.sh "$work/registry" "$port" >/dev/null

# The base: busybox for each platform, pushed, and an index naming both, all
# offline. Every FROM below resolves it per platform, as debian:12 would.
for arch in amd64 arm64; do
  mkdir -p "$work/base-$arch"
  if [ "$arch" = amd64 ]; then cp /bin/busybox "$work/base-$arch/busybox"; else cp build/tools/busybox-arm64 "$work/base-$arch/busybox"; fi
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' >"$work/base-$arch/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q --platform "linux/$arch" -t "$registry/base:1-$arch" "$work/base-$arch" >/dev/null 2>&1
  docker push -q "$registry/base:1-$arch" >/dev/null
done
# Makes IMAGE an index of the images named after it, through buildah.
make_index() {
  local image=$1 list=slipway-bench-list-$$
  shift
  buildah manifest create "$list" >/dev/null
  for member in "$@"; do buildah manifest add "$list" "docker://$member" >/dev/null; done
  buildah manifest push --all=false "$list" "docker://$image" >/dev/null 2>&1
  buildah manifest rm "$list" >/dev/null
}
make_index "$registry/base:1" "$registry/base:1-amd64" "$registry/base:1-arm64"

# One service of 2 MB (2 random 1 MB files), COPY and a RUN over them, as in
# the other pipeline benchmarks. Each command has a repository of its own and
# a service name of its own (they share the registry, where a version is
# published once).
repo=$work/template
git init -q --initial-branch=main "$repo"
for name in one two hand; do write_bench_service "$repo" "$name" 2 "$registry/base:1"; done
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "one service"
for name in one two hand; do
  git clone -q "$repo" "$work/repo-$name"
  echo 0 >"$work/round-$name"
done
# Before each run of command NAME: a new commit that changes the service and
# writes images.json with a new version and the command's platforms.
cat >"$work/new-commit.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
name=\$1
repo=$work/repo-\$name
round=\$(( \$(cat "$work/round-\$name") + 1 ))
echo "\$round" >"$work/round-\$name"
date +%s%N >"\$repo/\$name/nonce"
case "\$name" in
  one) platforms='["linux/amd64"]' ;;
  *) platforms='["linux/amd64", "linux/arm64"]' ;;
esac
echo "[{\"service_name\": \"\$name\", \"type\": \"Docker\", \"version\": \"1.\$round\", \"platforms\": \$platforms}]" >"\$repo/images.json"
git -C "\$repo" add -A
git -C "\$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "round \$round"
git -C "\$repo" rev-parse HEAD >"$work/head-\$name"
SCRIPT
chmod +x "$work/new-commit.sh"

# By hand, what a team would script without slipway: the service at the
# commit, each platform built with its bases pulled for it and pushed, then
# the manifest list made and pushed, and the local images removed.
cat >"$work/by-hand.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
clone=\$(mktemp -d)
trap 'rm -rf "\$clone"' EXIT
git clone -q "file://$work/repo-hand" "\$clone/repo"
version=1.\$(cat "$work/round-hand")
image=$registry/hand:\$version
for arch in amd64 arm64; do
  DOCKER_BUILDKIT=0 docker build -q --pull --platform linux/\$arch -t "\$image-\$arch" "\$clone/repo/hand" >/dev/null
  docker push -q "\$image-\$arch" >/dev/null
done
$(declare -f make_index)
make_index "\$image" "\$image-amd64" "\$image-arm64"
docker rmi "\$image-amd64" "\$image-arm64" >/dev/null
SCRIPT
chmod +x "$work/by-hand.sh"

secret=$work/secret
echo "bench-$RANDOM$RANDOM" >"$secret"
start_bench_slipwayd one build/daemon/slipwayd "$registry" 1 bench/one "file://$work/repo-one"
one=$url
start_bench_slipwayd two build/daemon/slipwayd "$registry" 1 bench/two "file://$work/repo-two"
two=$url
trigger=bench/pipeline_trigger.sh

names=("slipwayd, linux/amd64 only" "slipwayd, linux/amd64 + linux/arm64" "by hand: 2 x (docker build --platform, push), buildah manifest")
for round in $(seq 1 "$runs"); do
  warmup=0
  [ "$round" = 1 ] && warmup=1
  echo "round $round of $runs" >&2
  hyperfine --show-output --shell bash --runs 1 --warmup "$warmup" \
    --prepare "$work/new-commit.sh one" --prepare "$work/new-commit.sh two" --prepare "$work/new-commit.sh hand" \
    --export-json "$work/round-$round.json" \
    -n "${names[0]}" "$trigger $one $secret bench/one $work/head-one" \
    -n "${names[1]}" "$trigger $two $secret bench/two $work/head-two" \
    -n "${names[2]}" "$work/by-hand.sh" >"$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log" >&2; exit 1; }
done

# The last index slipwayd published names both platforms.
latest=$(cat "$work/round-two")
index=$(curl -fsS --cacert "$work/registry/ca.crt" \
  -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
  "https://$registry/v2/two/manifests/1.$latest")
for arch in amd64 arm64; do
  printf '%s' "$index" | grep -q "\"architecture\":\"$arch\"" || { echo "multi_platform: the index of two:1.$latest names no $arch: $index" >&2; exit 1; }
done

out=bench/results/multi-platform.md
mkdir -p bench/results
mapfile -t rows < <(pooled_times "$work"/round-*.json)
read -r single _ _ <<<"${rows[0]}"
{
  echo "# Two platforms from one merge"
  echo
  echo "Run by \`bench/multi_platform.sh $runs\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo "Docker $(docker version --format '{{.Server.Version}}') (classic builder), linux/arm64 under Debian's qemu-user-static"
  echo "$(dpkg-query -W -f='${Version}' qemu-user-static), Debian's docker-registry over TLS on loopback. One service of 2 MB"
  echo "(2 random 1 MB files), \`COPY . /app\` and a \`RUN\` over the files, FROM an index of two busybox images"
  echo "in the same registry. Each run merges a new commit that changes the service and bumps its version."
  echo "Timed by hyperfine: $runs rounds of one run of each command, after 1 warm-up run of each; slipwayd"
  echo "from the signed webhook until its job has ended, by hand from \`git clone\` to the last \`docker rmi\`."
  echo "Median (min–max) in seconds."
  echo
  timing_table "one platform" "$single" names rows
  echo
  echo "Checked: the last index slipwayd published (two:1.$latest) names linux/amd64 and linux/arm64."
} | tee "$out"
