#!/usr/bin/env bash
# Pipeline overhead: a merge of a repository with 4 services (8 MB of files
# each; a COPY and a RUN, FROM a busybox image imported offline) built and
# pushed to a local TLS docker-registry, by slipwayd (builder.concurrency 1
# and 4, webhook sent until its job has ended) and by the plain shell
# pipeline (git clone, then per service docker build, push, rmi), timed by
# hyperfine in the same run. Writes bench/results/pipeline.md.
#
# Usage: bench/pipeline.sh [RUNS (5)]
#
# cold: every run merges a new commit that changes a file in each service, so
#       every COPY and RUN layer is built afresh and 4 x 8 MB are pushed.
# warm: every run builds the same commit again; its layers are in the engine
#       (kept by a second tag, so that `docker rmi` only untags) and its blobs
#       in the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-5}
source bench/common.sh

bench_pipeline_setup pipeline
base=slipway-bench-base:$$
keep=slipway-bench-keep-$$
registry_port=$(free_port)
registry=localhost:$registry_port
pids=()
services=(api worker web jobs)
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  [ -s "$work/registry/registry.pid" ] && stop_pid "$(cat "$work/registry/registry.pid")"
  # Everything this run tagged: the registry's references, the keepers, the base.
  docker images --format '{{.Repository}}:{{.Tag}}' |
    grep -E "^($registry/|$keep/)" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  docker rmi "$base" >/dev/null 2>&1 || true
  rm -rf "/etc/docker/certs.d/$registry"
  rm -rf "$work"
}
trap cleanup EXIT

# The base image, made offline.
import_busybox_image "$base" "$work"

# The registry, TLS, trusted by the engine through /etc/docker/certs.d.
scripts/start-registry.sh "$work/registry" "$registry_port" >/dev/null

# The repository: 4 services of 8 x 1 MB random files each.
repo=$work/repo
git init -q --initial-branch=main "$repo"
manifest="["
for service in "${services[@]}"; do
  write_bench_service "$repo" "$service" 8 "$base"
  manifest+="$([ "$manifest" = "[" ] || echo ", "){\"service_name\": \"$service\", \"type\": \"Docker\", \"version\": \"1.0.0\"}"
done
echo "$manifest]" >"$repo/images.json"
commit() {
  git -C "$repo" add -A
  git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "$1"
  git -C "$repo" rev-parse HEAD >"$work/head"
}
commit "four services"
# A cold run: a new commit that changes every service.
cat >"$work/new-commit.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
for service in ${services[*]}; do date +%s%N >"$repo/\$service/nonce"; done
git -C "$repo" add -A
git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm nonce
git -C "$repo" rev-parse HEAD >"$work/head"
SCRIPT
chmod +x "$work/new-commit.sh"

# Two slipwayd, one per builder.concurrency.
secret=$work/secret
echo "bench-$RANDOM$RANDOM" >"$secret"
# Every run builds and pushes every service, as the shell pipeline does: this
# measures the pipeline itself (bench/incremental.sh measures releases).
overwrite="republish = overwrite"
start_bench_slipwayd slipway-c1 build/daemon/slipwayd "$registry" 1 bench/pipeline "file://$repo" "$overwrite"
c1=$url
start_bench_slipwayd slipway-c4 build/daemon/slipwayd "$registry" 4 bench/pipeline "file://$repo" "$overwrite"
c4=$url

entries=()
for service in "${services[@]}"; do entries+=("$service:1.0.0"); done
baseline="bench/pipeline_baseline.sh file://$repo $registry ${entries[*]}"
trigger="bench/pipeline_trigger.sh"

# hyperfine runs each command's runs back to back; on a shared machine a busy
# minute would then fall on one command. So each round runs every command
# once (hyperfine --runs 1, with one warm-up before the first round), and the
# rounds are pooled: "median min max" in seconds per command, in order.
measure() {  # SCENARIO [PREPARE]
  local scenario=$1 prepare=() round warmup
  [ -n "${2:-}" ] && prepare=(--prepare "$2")
  for round in $(seq 1 "$runs"); do
    warmup=0
    [ "$round" = 1 ] && warmup=1
    echo "$scenario: round $round of $runs" >&2
    hyperfine --style none --shell bash --runs 1 --warmup "$warmup" "${prepare[@]}" \
      --export-json "$work/$scenario-$round.json" \
      -n "shell pipeline (sequential)" "$baseline" \
      -n "slipwayd, concurrency 1" "$trigger $c1 $secret bench/pipeline $work/head" \
      -n "slipwayd, concurrency 4" "$trigger $c4 $secret bench/pipeline $work/head" >/dev/null
  done
}

measure cold "$work/new-commit.sh"
"$work/new-commit.sh"
for service in "${services[@]}"; do
  docker build -q -t "$keep/$service:1" "$repo/$service" >/dev/null
done
measure warm

# Every slipwayd run must have pushed all four images: count the builds that succeeded with a digest.
pushed() { sqlite3 "$work/$1/slipway.db" "SELECT count(*) FROM builds WHERE state = 'succeeded' AND digest LIKE 'sha256:%'"; }
expected=$(( (2 * runs + 2) * ${#services[@]} ))

out=bench/results/pipeline.md
mkdir -p bench/results
names=("shell pipeline (sequential)" "slipwayd, concurrency 1" "slipwayd, concurrency 4")
{
  echo "# Pipeline: webhook to last push, against the shell pipeline"
  echo
  echo "Run by \`bench/pipeline.sh $runs\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo "Docker $(docker version --format '{{.Server.Version}}') (classic builder), Debian's docker-registry over TLS on loopback."
  echo "4 services of 8 MB (8 random 1 MB files), each \`COPY . /app\` and a \`RUN\` over the files, FROM a"
  echo "busybox-static image imported offline. Timed by hyperfine: $runs rounds, each running every command"
  echo "once (so that load from elsewhere falls on all three alike), after 1 warm-up run of each;"
  echo "slipwayd from sending the signed webhook until its job has ended (its last push and rmi done, polled"
  echo "every 50 ms); the baseline from \`git clone\` to its last \`docker rmi\`. Median (min–max) in seconds."
  echo
  echo "| scenario | command | median s | min–max s | ratio to the shell pipeline |"
  echo "|---|---|---:|---:|---:|"
  for scenario in cold warm; do
    mapfile -t rows < <(pooled_times "$work/$scenario"-*.json)
    read -r base_median _ _ <<<"${rows[0]}"
    for i in 0 1 2; do
      read -r median lo hi <<<"${rows[$i]}"
      echo "| $scenario | ${names[$i]} | $median | $lo–$hi | $(awk -v a="$median" -v b="$base_median" 'BEGIN {printf "%.2f", a / b}') |"
    done
  done
  echo
  echo "Images pushed (builds succeeded with a digest, warm-ups included): concurrency 1: $(pushed slipway-c1)," \
       "concurrency 4: $(pushed slipway-c4), expected $expected each."
  echo
  echo "Targets: concurrency 1 no more than 10% above the sequential shell pipeline (ratio ≤ 1.10);"
  echo "concurrency 4 at least 1.5x faster (ratio ≤ 0.67)."
  echo
  for scenario in cold warm; do
    mapfile -t rows < <(pooled_times "$work/$scenario"-*.json)
    read -r b _ _ <<<"${rows[0]}"
    read -r s1 _ _ <<<"${rows[1]}"
    read -r s4 _ _ <<<"${rows[2]}"
    verdict() { if awk "BEGIN {exit !($1)}"; then echo met; else echo MISSED; fi; }
    echo "- $scenario: concurrency 1 $(verdict "$s1 <= 1.10 * $b") ($(awk -v a="$s1" -v b="$b" 'BEGIN {printf "%+.0f%%", (a / b - 1) * 100}')), concurrency 4 $(verdict "$s4 * 1.5 <= $b") ($(awk -v a="$s4" -v b="$b" 'BEGIN {printf "%.2fx faster", b / a}'))"
  done
} | tee "$out"
