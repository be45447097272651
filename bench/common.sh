# Helpers the benchmark scripts share; sourced, not run.

# The load average (1, 5, 15 minutes) when the script that sources this started.
bench_start_load=$(cut -d' ' -f1-3 /proc/loadavg)

# One line about the machine and how busy it was, for the results files.
bench_machine() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
       "$(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r), load average $bench_start_load at the start" \
       "and $(cut -d' ' -f1-3 /proc/loadavg) at the end"
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# The median of the numbers on stdin, one per line (the mean of the middle two for an even count).
median() {
  sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# "min–max" of the numbers on stdin, formatted with printf format $1.
spread() {
  sort -g | awk -v f="$1" 'NR == 1 {lo = $1} {hi = $1} END {printf f "–" f "\n", lo, hi}'
}

# Waits up to 10 s until URL answers HTTP at all (any status).
wait_for_http() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "nothing answered at $1" >&2
  return 1
}

# Stops a process this script started, and waits for it.
stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

# Makes $work, a scratch folder for the script named $1, and when the script
# ends, however it ends, stops every process listed in $pids and removes $work.
bench_scratch() {
  work=$(mktemp -d "/tmp/slipway-bench-$1.XXXXXX")
  pids=()
  trap 'for pid in "${pids[@]}"; do stop_pid "$pid"; done; rm -rf "$work"' EXIT
}

# Imports busybox-static as image TAG, offline, from a root filesystem made in
# DIR: the base image every benchmark builds FROM (nothing can be pulled).
import_busybox_image() {
  local tag=$1 dir=$2
  mkdir -p "$dir/rootfs/bin"
  cp /bin/busybox "$dir/rootfs/bin/" && ln -s busybox "$dir/rootfs/bin/sh"
  tar -C "$dir/rootfs" -c . | docker import - "$tag" >/dev/null
}

# hyperfine JSON files of rounds that each ran every command once, pooled:
# one line per command, in order, "median min max" in seconds.
pooled_times() {
  node -e 'const fs = require("fs");
           const times = [];
           for (const f of process.argv.slice(1))
             JSON.parse(fs.readFileSync(f)).results.forEach((r, i) => (times[i] = (times[i] || []).concat(r.times)));
           for (const t of times) {
             t.sort((a, b) => a - b);
             const m = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
             console.log(m.toFixed(2), t[0].toFixed(2), t[t.length - 1].toFixed(2));
           }' "$@"
}

# What every benchmark of the pipeline does first: installs what it needs,
# builds slipwayd into build/, makes sure a Docker engine answers, and makes
# $work, a scratch folder for the script named $1 that other users can read
# (the engine and the registry read what it holds).
bench_pipeline_setup() {
  bench/install-deps.sh
  scripts/build.sh >/dev/null
  scripts/ensure-docker.sh
  work=$(mktemp -d "/tmp/slipway-bench-$1.XXXXXX")
  chmod 755 "$work"
}

# Starts slipwayd NAME from BINARY with a configuration of its own in
# $work/NAME: webhook secret $secret, registry REGISTRY, the cli backend with
# builder.concurrency CONCURRENCY and any further [builder] lines in EXTRA,
# one repository REPO_NAME fetched from REPO_URL. Adds it to $pids and sets
# $url to its address once it answers.
# Usage: start_bench_slipwayd NAME BINARY REGISTRY CONCURRENCY REPO_NAME REPO_URL [EXTRA]
start_bench_slipwayd() {
  local name=$1 binary=$2 registry=$3 concurrency=$4 repo_name=$5 repo_url=$6 extra=${7:-} port
  port=$(free_port)
  mkdir -p "$work/$name"
  cat >"$work/$name/slipway.ini" <<INI
[server]
listen = 127.0.0.1:$port
[webhook]
secret_file = $secret
[registry]
host = $registry
[builder]
backend = cli
concurrency = $concurrency
$extra
[storage]
state_dir = $work/$name
[repo.bench]
name = $repo_name
url = $repo_url
branches = main
INI
  "$binary" --config "$work/$name/slipway.ini" >"$work/$name/daemon.log" 2>&1 &
  pids+=($!)
  url=http://127.0.0.1:$port
  wait_for_http "$url/healthz"
}

# Writes service folder REPO/SERVICE: MEGABYTES random 1 MB files, a nonce
# file a new commit can change, and a Dockerfile FROM image BASE that copies
# them and runs over them.
write_bench_service() {
  local repo=$1 service=$2 megabytes=$3 base=$4 i
  mkdir -p "$repo/$service/data"
  for i in $(seq 1 "$megabytes"); do head -c 1048576 /dev/urandom >"$repo/$service/data/part$i"; done
  echo 0 >"$repo/$service/nonce"
  cat >"$repo/$service/Dockerfile" <<DOCKERFILE
FROM $base
COPY . /app
RUN /bin/busybox md5sum /app/data/* >/app/data.md5
DOCKERFILE
}

# A results table: one row per command of the array named NAMES, with its
# pooled "median min max" from the array named ROWS (see pooled_times) and
# its ratio to BASELINE seconds, under the heading "ratio to LABEL".
# Usage: timing_table LABEL BASELINE NAMES ROWS
timing_table() {
  local label=$1 baseline=$2 i median lo hi
  local -n table_names=$3 table_rows=$4
  echo "| command | median s | min–max s | ratio to $label |"
  echo "|---|---:|---:|---:|"
  for i in "${!table_names[@]}"; do
    read -r median lo hi <<<"${table_rows[$i]}"
    echo "| ${table_names[$i]} | $median | $lo–$hi | $(awk -v a="$median" -v b="$baseline" 'BEGIN {printf "%.2f", a / b}') |"
  done
}
