#!/usr/bin/env bash
# Build only what changed: a repository of 10 services, and a merge that
# changes one of them (and bumps its version). Timed from the signed webhook
# to the job's end, for slipwayd as it is now, for slipwayd before releases
# were checked (built from BASELINE_REV, which rebuilds and re-pushes every
# service on every merge), both with builder.concurrency 1, and for the shell
# pipeline (git clone, then per service docker build, push, rmi). Writes
# bench/results/incremental.md.
#
# Usage: bench/incremental.sh [RUNS (5)] [BASELINE_REV]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
# The last commit whose slipwayd built every service of every merge.
baseline_rev=${2:-209000a}
source bench/common.sh

bench_pipeline_setup incremental
base=slipway-bench-base:$$
pids=()
services=(api worker web jobs auth billing search mail audit gateway)
now_port=$(free_port)
before_port=$(free_port)
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  for port in "$now_port" "$before_port"; do
    [ -s "$work/registry-$port/registry.pid" ] && stop_pid "$(cat "$work/registry-$port/registry.pid")"
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^localhost:$port/" | xargs -r docker rmi -f >/dev/null 2>&1 || true
    rm -rf "/etc/docker/certs.d/localhost:$port"
  done
  docker rmi "$base" >/dev/null 2>&1 || true
  git worktree remove --force "$work/baseline-src" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# slipwayd before this change, from its own source.
echo "building slipwayd at $baseline_rev" >&2
git worktree add -q --detach "$work/baseline-src" "$baseline_rev"
cmake -S "$work/baseline-src" -B "$work/baseline-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSLIPWAY_INTEGRATION_TESTS=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$work/baseline-build" --target slipwayd -j"$(nproc)" >/dev/null
before_bin=$work/baseline-build/daemon/slipwayd

# The base image, made offline.
import_busybox_image "$base" "$work"

# A registry each: slipwayd now refuses tags it did not push, which the others push.
scripts/start-registry.sh "$work/registry-$now_port" "$now_port" >/dev/null
scripts/start-registry.sh "$work/registry-$before_port" "$before_port" >/dev/null

# The repository: 10 services of 2 x 1 MB random files each, a COPY and a RUN.
# Each command gets a copy of its own, so that every run of it sees exactly one
# service changed since its previous run.
repo=$work/template
git init -q --initial-branch=main "$repo"
for service in "${services[@]}"; do write_bench_service "$repo" "$service" 2 "$base"; done
# Writes images.json with every service at 1.<its count of changes>.
write_manifest() {
  local manifest="[" service
  for service in "${services[@]}"; do
    manifest+="$([ "$manifest" = "[" ] || echo ", ")"
    manifest+="{\"service_name\": \"$service\", \"type\": \"Docker\", \"version\": \"1.$(cat "$repo/$service/nonce" | cut -c1-12)\"}"
  done
  echo "$manifest]" >"$repo/images.json"
}
write_manifest
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "ten services"
for name in shell before now; do
  git clone -q "$repo" "$work/repo-$name"
  echo 0 >"$work/round-$name"
  git -C "$work/repo-$name" rev-parse HEAD >"$work/head-$name"
done
# Before each run of command NAME: a new commit in its repository that changes
# the next service in turn and bumps its version.
cat >"$work/new-commit.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
name=\$1
repo=$work/repo-\$name
services=(${services[*]})
round=\$(( \$(cat "$work/round-\$name") + 1 ))
echo "\$round" >"$work/round-\$name"
service=\${services[\$(( round % \${#services[@]} ))]}
date +%s%N | cut -c1-12 >"\$repo/\$service/nonce"
$(declare -f write_manifest)
write_manifest
git -C "\$repo" add -A
git -C "\$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "change \$service"
git -C "\$repo" rev-parse HEAD >"$work/head-\$name"
SCRIPT
chmod +x "$work/new-commit.sh"

secret=$work/secret
echo "bench-$RANDOM$RANDOM" >"$secret"
start_bench_slipwayd now build/daemon/slipwayd "localhost:$now_port" 1 bench/incremental "file://$work/repo-now"
now=$url
start_bench_slipwayd before "$before_bin" "localhost:$before_port" 1 bench/incremental "file://$work/repo-before"
before=$url

trigger=bench/pipeline_trigger.sh
# The shell pipeline reads the versions of the commit it is given.
cat >"$work/baseline.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
repo=$work/repo-shell
entries=()
for service in ${services[*]}; do
  entries+=("\$service:\$(git -C "\$repo" show HEAD:images.json | tr '{' '\n' | grep "\"\$service\"" | sed 's/.*"version": "\([^"]*\)".*/\1/')")
done
exec bench/pipeline_baseline.sh "file://\$repo" "localhost:$before_port" "\${entries[@]}"
SCRIPT
chmod +x "$work/baseline.sh"

# As in pipeline.sh: rounds of one run of each command, pooled.
for round in $(seq 1 "$runs"); do
  warmup=0
  [ "$round" = 1 ] && warmup=1
  echo "round $round of $runs" >&2
  hyperfine --style none --shell bash --runs 1 --warmup "$warmup" \
    --prepare "$work/new-commit.sh shell" --prepare "$work/new-commit.sh before" --prepare "$work/new-commit.sh now" \
    --export-json "$work/round-$round.json" \
    -n "shell pipeline (all 10, sequential)" "$work/baseline.sh" \
    -n "slipwayd before (every service, concurrency 1)" "$trigger $before $secret bench/incremental $work/head-before" \
    -n "slipwayd now (changed service only, concurrency 1)" "$trigger $now $secret bench/incremental $work/head-now" >/dev/null
done

count() { sqlite3 "$work/$1/slipway.db" "$2"; }

out=bench/results/incremental.md
mkdir -p bench/results
names=("shell pipeline (all 10, sequential)" "slipwayd before (every service, concurrency 1)" "slipwayd now (changed service only, concurrency 1)")
mapfile -t rows < <(pooled_times "$work"/round-*.json)
read -r shell _ _ <<<"${rows[0]}"
read -r previous _ _ <<<"${rows[1]}"
read -r current _ _ <<<"${rows[2]}"
{
  echo "# Build only what changed: one service of ten"
  echo
  echo "Run by \`bench/incremental.sh $runs $baseline_rev\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo "Docker $(docker version --format '{{.Server.Version}}') (classic builder), Debian's docker-registry over TLS on loopback."
  echo "10 services of 2 MB (2 random 1 MB files), each \`COPY . /app\` and a \`RUN\` over the files, FROM a"
  echo "busybox-static image imported offline. Each run merges a new commit that changes one service and"
  echo "bumps its version. slipwayd before is built from $baseline_rev, the last commit that built every"
  echo "service of every merge. Timed by hyperfine: $runs rounds of one run of each command, after 1 warm-up"
  echo "run of each; slipwayd from the signed webhook until its job has ended; the shell pipeline from"
  echo "\`git clone\` to its last \`docker rmi\`. Median (min–max) in seconds."
  echo
  timing_table "slipwayd before" "$previous" names rows
  echo
  echo "Builds by slipwayd now: $(count now "SELECT count(*) FROM builds WHERE state = 'succeeded' AND reused = 0") built and pushed," \
       "$(count now "SELECT count(*) FROM builds WHERE reused = 1") reused, $(count now "SELECT count(*) FROM builds WHERE state = 'failed'") failed;" \
       "by slipwayd before: $(count before "SELECT count(*) FROM builds WHERE state = 'succeeded'") built and pushed."
  echo
  verdict=$(awk -v a="$current" -v b="$previous" 'BEGIN {print (a * 5 <= b) ? "met" : "MISSED"}')
  echo "Target: at least 5x faster than slipwayd before at concurrency 1: $verdict" \
       "($(awk -v a="$current" -v b="$previous" 'BEGIN {printf "%.1fx", b / a}'); against the shell pipeline" \
       "$(awk -v a="$current" -v b="$shell" 'BEGIN {printf "%.1fx", b / a}'))."
} | tee "$out"
