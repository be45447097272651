#!/usr/bin/env bash
# Webhook ingest: slipwayd against Debian's webhook (adnanh/webhook), side by
# side in one run. wrk posts GitHub's merged pull_request example, signed, each
# request with its own X-GitHub-Delivery and its own merge_commit_sha, at 16
# and 64 connections for DURATION seconds; RUNS rounds, alternating the two
# servers. Writes bench/results/webhook-ingest.md.
#
# Usage: bench/webhook_ingest.sh [RUNS (3)] [DURATION seconds (15)]
#
# slipwayd's setup: builder.concurrency = 1, and the repository's url points
# at a loopback port where a listener accepts and never answers: the one
# worker takes the first job and waits in its fetch for the rest of the run,
# as it would while building, and every later delivery queues behind it.
# Every delivery names a commit of its own, so every one inserts a job and
# is answered 202: the path to measure. Why not jobs that fail fast instead
# (a repository without the commit)? The worker would then claim, fetch and
# fail hundreds of jobs a second, each with two commits under the store's
# lock, which no real build does: that would measure the worker, not ingest.
# The baseline runs /bin/true per delivery, its equivalent of starting work,
# after checking the same signature (a payload-hmac-sha256 trigger rule).
# After each run slipwayd is killed with SIGKILL before its rows are counted:
# every delivery answered 2xx must be in slipway.db all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-3}
duration=${2:-15}
source bench/common.sh

bench/install-deps.sh
scripts/build.sh >/dev/null
examples=$root/build/npm/node_modules/@octokit/webhooks-examples/api.github.com/index.json
if [ ! -s "$examples" ]; then
  # The same pinned package the integration tests replay.
  npm install --no-audit --no-fund --prefix "$root/build/npm" @octokit/webhooks-examples@7.6.1 >/dev/null
fi

bench_scratch ingest

echo "bench-secret-$RANDOM$RANDOM" >"$work/secret"
# Where the worker's fetch waits: a listener that accepts and says nothing.
silent_port=$(free_port)
node -e 'require("net").createServer(() => {}).listen(Number(process.argv[1]), "127.0.0.1")' "$silent_port" &
pids+=($!)

# Enough distinct commits that no wrk thread runs out in one run (it starts its
# file over if it does, and the table says so).
per_thread=${BODIES_PER_THREAD:-120000}
echo "writing 2 x $per_thread signed bodies..." >&2
node bench/webhook_bodies.js "$examples" "$work/secret" "$work/bodies" 2 "$per_thread"
# Written back now, not 30 s later (the kernel's dirty_expire) in the middle of
# the first 64-connection run, whose fsyncs it held up: p99 89 ms in that run.
sync
body_bytes=$(head -n1 "$work/bodies-1" | cut -d' ' -f2- | tr -d '\n' | wc -c)

cat >"$work/hooks.json" <<JSON
[{"id": "github", "execute-command": "/bin/true", "command-working-directory": "/",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$(cat "$work/secret")",
                             "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON

# Highest VmRSS of PID, sampled every 0.2 s until the file STOP appears; written to OUT.
sample_rss() {
  local pid=$1 stop=$2 out=$3 max=0 kb
  while [ ! -e "$stop" ]; do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$max" ] && max=$kb
    sleep 0.2
  done
  echo "$max" >"$out"
}

# run_wrk NAME URL CONNECTIONS: leaves wrk's RESULT fields in shell variables.
run_wrk() {
  local out=$work/$1.wrk
  wrk -t2 -c"$3" -d"${duration}s" --timeout 5s -s bench/webhook_ingest.lua "$2" -- "$work/bodies" "$1" >"$out" 2>&1
  grep -q '^RESULT' "$out" || { echo "wrk against $2 failed:" >&2; cat "$out" >&2; exit 1; }
  eval "$(grep '^RESULT' "$out" | cut -d' ' -f2-)"
}

# The CPU time a server has used, in clock ticks: its own, user and system,
# and its children's it has waited for (webhook runs a command for each hook).
cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# measure NAME PID READY_URL HOOK_URL: once PID answers READY_URL, reads its idle
# memory, then runs wrk against HOOK_URL while sampling its RSS and counting
# its CPU time. Leaves idle_rss, idle_anon, load_rss, hwm, cpu_before,
# cpu_after and wrk's fields in shell variables.
measure() {
  local name=$1 pid=$2 sampler
  wait_for_http "$3"
  sleep 1
  idle_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  idle_anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
  idle_pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
  rm -f "$work/stop"
  sample_rss "$pid" "$work/stop" "$work/rss" &
  sampler=$!
  cpu_before=$(cpu_ticks "$pid")
  run_wrk "$name" "$4" "$connections"
  touch "$work/stop"
  wait "$sampler"
  # After the sampler has stopped: a server that died makes this fail, and
  # the sampler must not be left running.
  cpu_after=$(cpu_ticks "$pid")
  load_rss=$(cat "$work/rss")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
}

# record TOOL DELIVERIES JOBS: appends the last measure's row to the results.
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$connections" "$run" \
    "$(awk -v n="$ok2xx" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')" "$p50_ms" "$p99_ms" "$ok2xx" \
    "$accepted202" "$((non2xx + connect_errors + read_errors + write_errors + timeouts))" "$wrapped" \
    "$2" "$3" "$idle_rss" "$load_rss" "$hwm" "$idle_anon" "$idle_pss" \
    "$(awk -v t=$((cpu_after - cpu_before)) -v hz="$ticks_per_second" -v n="$ok2xx" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')" \
    >>"$results"
}

results=$work/results.tsv
: >"$results"
for run in $(seq 1 "$runs"); do
  for connections in 16 64; do
    # slipwayd, on a fresh state directory each time.
    port=$(free_port)
    state=$work/slipway-$run-$connections
    mkdir -p "$state"
    cat >"$state/slipway.ini" <<INI
[server]
listen = 127.0.0.1:$port
[webhook]
secret_file = $work/secret
[registry]
host = localhost:5999
[builder]
concurrency = 1
[storage]
state_dir = $state
[repo.hello]
name = Codertocat/Hello-World
url = git://127.0.0.1:$silent_port/repo.git
branches = master
INI
    build/daemon/slipwayd --config "$state/slipway.ini" >"$state/daemon.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    measure "slipway-$run-$connections" "$pid" "http://127.0.0.1:$port/healthz" "http://127.0.0.1:$port/hooks/github"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    deliveries=$(sqlite3 "$state/slipway.db" "SELECT count(*) FROM deliveries")
    jobs=$(sqlite3 "$state/slipway.db" "SELECT count(*) FROM jobs")
    record slipwayd "$deliveries" "$jobs"
    rm -rf "$state"

    # The baseline.
    port=$(free_port)
    webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$port" -nopanic >"$work/webhook.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    measure "webhook-$run-$connections" "$pid" "http://127.0.0.1:$port/" "http://127.0.0.1:$port/hooks/github"
    stop_pid "$pid"
    record webhook - -
    echo "run $run, $connections connections: $(tail -n2 "$results" | cut -f1,4,6 | tr '\t\n' ' ')" >&2
  done
done

# column: 1 tool 2 connections 3 run 4 rps 5 p50 6 p99 7 ok2xx 8 202 9 errors 10 wrapped
#         11 deliveries 12 jobs 13 idle_rss 14 load_rss 15 hwm 16 idle RssAnon 17 idle PSS
#         18 CPU µs per 2xx
col() { awk -F'\t' -v t="$1" -v c="$2" -v k="$3" '$1 == t && $2 == c {print $k}' "$results"; }
out=bench/results/webhook-ingest.md
mkdir -p bench/results
{
  echo "# Webhook ingest: slipwayd against adnanh/webhook"
  echo
  echo "Run by \`bench/webhook_ingest.sh $runs $duration\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo "wrk 2 threads, ${duration} s per run, $runs runs per row, the two servers alternating;"
  echo "body: GitHub's pull_request \"closed\" example from @octokit/webhooks-examples 7.6.1, merged,"
  echo "$body_bytes bytes, signed; every request has its own delivery id and merge commit."
  echo "Medians, with the spread (min–max) over the runs in parentheses. wrk keeps every connection busy"
  echo "(a closed loop), so the mean latency is connections / throughput (Little's law); a p50 far below"
  echo "that would mean connections left waiting unanswered, which wrk's figures do not show."
  echo "CPU: the server's user and system time over the run (and its commands', for webhook) per 2xx;"
  echo "wrk shares the same cores, and a busy host raises it for the same binary (bench/README.md)."
  echo
  echo "| server | connections | 2xx per second | p50 ms | p99 ms | mean ms by Little's law | CPU µs per 2xx | non-2xx and socket errors | slipwayd/webhook (2xx/s) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for connections in 16 64; do
    base=$(col webhook "$connections" 4 | median)
    for tool in slipwayd webhook; do
      rps=$(col "$tool" "$connections" 4 | median)
      ratio="—"
      [ "$tool" = slipwayd ] && ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN {printf "%.2fx", a / b}')
      echo "| $tool | $connections | $rps ($(col "$tool" "$connections" 4 | spread %.0f)) |" \
           "$(col "$tool" "$connections" 5 | median | xargs printf %.1f) ($(col "$tool" "$connections" 5 | spread %.1f)) |" \
           "$(col "$tool" "$connections" 6 | median | xargs printf %.1f) ($(col "$tool" "$connections" 6 | spread %.1f)) |" \
           "$(awk -v c="$connections" -v r="$rps" 'BEGIN {printf "%.1f", 1000 * c / r}') |" \
           "$(col "$tool" "$connections" 18 | median | xargs printf %.0f) ($(col "$tool" "$connections" 18 | spread %.0f)) |" \
           "$(col "$tool" "$connections" 9 | median) | $ratio |"
    done
  done
  echo
  echo "Durability (slipwayd): every 2xx must be a committed row. Rows are counted in slipway.db"
  echo "after wrk stops and slipwayd exits; requests still in flight when wrk stopped may add rows"
  echo "that wrk did not count, never the other way round."
  echo
  echo "| connections | run | 2xx counted by wrk | delivery rows | 202 counted by wrk | job rows | all recorded |"
  echo "|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '$1 == "slipwayd" {printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $7, $11, $8, $12, ($11 >= $7 && $12 >= $8) ? "yes" : "NO"}' "$results"
  echo
  echo "Memory (VmRSS in MB; idle: after start, before any request; under load: highest sample every 0.2 s;"
  echo "VmHWM at the end; idle RssAnon: the part of idle VmRSS that is the process's own memory, the rest"
  echo "being pages of the shared libraries it maps; idle PSS: the pages it maps, each shared one divided"
  echo "among the processes that map it):"
  echo
  echo "| server | connections | idle | idle RssAnon | idle PSS | under load | VmHWM |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for connections in 16 64; do
    for tool in slipwayd webhook; do
      mb() { awk '{printf "%.1f\n", $1 / 1024}'; }
      echo "| $tool | $connections | $(col "$tool" "$connections" 13 | mb | median) |" \
           "$(col "$tool" "$connections" 16 | mb | median) |" \
           "$(col "$tool" "$connections" 17 | mb | median) |" \
           "$(col "$tool" "$connections" 14 | mb | median) ($(col "$tool" "$connections" 14 | mb | spread %.1f)) |" \
           "$(col "$tool" "$connections" 15 | mb | median) |"
    done
  done
  wrapped=$(awk -F'\t' '{s += $10} END {print s}' "$results")
  [ "$wrapped" -gt 0 ] && echo && echo "Note: a wrk thread ran out of distinct commits $wrapped times (raise BODIES_PER_THREAD)."
  echo
  echo "Targets: slipwayd at least 5x the baseline's 2xx per second; p99 under 10 ms at 64 connections;"
  echo "every 2xx recorded; RSS under 64 MB under load; the process's own memory (RssAnon, PSS beside it)"
  echo "under 16 MB idle."
  echo
  s64=$(col slipwayd 64 4 | median); b64=$(col webhook 64 4 | median)
  s16=$(col slipwayd 16 4 | median); b16=$(col webhook 16 4 | median)
  verdict() { if awk "BEGIN {exit !($1)}"; then echo met; else echo MISSED; fi; }
  echo "- 5x throughput: 16 connections $(verdict "$s16 >= 5 * $b16"), 64 connections $(verdict "$s64 >= 5 * $b64")"
  echo "- p99 under 10 ms at 64 connections: $(verdict "$(col slipwayd 64 6 | median) < 10")"
  echo "- every 2xx recorded: $(awk -F'\t' '$1 == "slipwayd" && ($11 < $7 || $12 < $8) {bad = 1} END {print bad ? "MISSED" : "met"}' "$results")"
  echo "- RSS under load under 64 MB: $(verdict "$(awk -F'\t' '$1 == "slipwayd" && $14 > m {m = $14} END {print m + 0}' "$results") < 65536")"
  echo "- RssAnon idle under 16 MB: $(verdict "$(col slipwayd 16 16 | median) < 16384")"
} | tee "$out"
