#!/usr/bin/env bash
# Webhook ingest on PostgreSQL: one slipwayd on SQLite, one on PostgreSQL,
# and two on the same PostgreSQL (the load split between them), in one run.
# The load is bench/webhook_ingest.sh's: wrk posts GitHub's merged
# pull_request example, signed, every request with its own delivery id and
# commit, for DURATION seconds at CONNECTIONS (two wrk of half as many, one
# per node, for the two nodes); RUNS rounds, the three set-ups alternating.
# Writes bench/results/cluster-ingest.md.
#
# Usage: bench/cluster_ingest.sh [RUNS (3)] [DURATION seconds (15)] [CONNECTIONS (64)]
#
# PostgreSQL 15 from Debian runs on this machine with its durable defaults
# (fsync, synchronous_commit on: a commit is on disk before it is answered,
# as SQLite's synchronous=FULL), started by scripts/start-postgres.sh
# --durable on a loopback port, a database of its own for each run. Each
# slipwayd has builder.concurrency = 1 and a repository whose fetch never
# ends (as in webhook_ingest.sh), so every delivery queues a job behind the
# first. After each run the nodes are killed with SIGKILL and the rows
# counted: every delivery answered 2xx must be in the database.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-3}
duration=${2:-15}
connections=${3:-64}
source bench/common.sh

bench/install-deps.sh
scripts/build.sh >/dev/null
examples=$root/build/npm/node_modules/@octokit/webhooks-examples/api.github.com/index.json
if [ ! -s "$examples" ]; then
  npm install --no-audit --no-fund --prefix "$root/build/npm" @octokit/webhooks-examples@7.6.1 >/dev/null
fi

bench_scratch cluster-ingest
# Beside $work, not in it: $work is root's alone, and the cluster runs as postgres.
pgdir=$(mktemp -u -d /tmp/slipway-bench-postgres.XXXXXX)
trap 'for pid in "${pids[@]}"; do stop_pid "$pid"; done; scripts/start-postgres.sh --stop "$pgdir"; rm -rf "$work"' EXIT
echo "bench-secret-$RANDOM$RANDOM" >"$work/secret"
silent_port=$(free_port)
node -e 'require("net").createServer(() => {}).listen(Number(process.argv[1]), "127.0.0.1")' "$silent_port" &
pids+=($!)

# Two files of distinct commits: wrk's threads take one each; for two nodes,
# each wrk (one thread) takes its own through a prefix of its own.
per_thread=${BODIES_PER_THREAD:-90000}
echo "writing 2 x $per_thread signed bodies..." >&2
node bench/webhook_bodies.js "$examples" "$work/secret" "$work/bodies" 2 "$per_thread"
ln -s "$work/bodies-1" "$work/first-1"
ln -s "$work/bodies-2" "$work/second-1"
sync

postgres=$(scripts/start-postgres.sh --durable "$pgdir")
psql_at() { psql "$postgres dbname=$1" -XAtqc "$2"; }

# start_node NAME STORAGE_INI: starts slipwayd with a state folder of its own;
# leaves its port in $port and its pid in $pid.
start_node() {
  local state=$work/$1
  port=$(free_port)
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
$2
[cluster]
node = $1
[repo.hello]
name = Codertocat/Hello-World
url = git://127.0.0.1:$silent_port/repo.git
branches = master
INI
  build/daemon/slipwayd --config "$state/slipway.ini" >"$state/daemon.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_for_http "http://127.0.0.1:$port/healthz"
}

# wrk_at URL CONNECTIONS THREADS BODIES RUN_ID OUT: one wrk run, its RESULT line in OUT.
wrk_at() {
  wrk -t"$3" -c"$2" -d"${duration}s" --timeout 5s -s bench/webhook_ingest.lua "$1" -- "$4" "$5" >"$6" 2>&1
  grep -q '^RESULT' "$6" || { echo "wrk against $1 failed:" >&2; cat "$6" >&2; exit 1; }
}

# field FILE NAME: a field of a wrk RESULT line.
field() { grep '^RESULT' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

results=$work/results.tsv
: >"$results"
# record SETUP RUN OK2XX SECONDS P50 P99 ERRORS DELIVERY_ROWS JOB_ROWS ACCEPTED202
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }

for run in $(seq 1 "$runs"); do
  # One node on SQLite.
  start_node "sqlite-$run" ""
  wrk_at "http://127.0.0.1:$port/hooks/github" "$connections" 2 "$work/bodies" "s$run" "$work/w.out"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  db=$work/sqlite-$run/slipway.db
  record sqlite "$run" "$(field "$work/w.out" ok2xx)" "$(field "$work/w.out" seconds)" \
    "$(field "$work/w.out" p50_ms)" "$(field "$work/w.out" p99_ms)" \
    "$(($(field "$work/w.out" non2xx) + $(field "$work/w.out" timeouts)))" \
    "$(sqlite3 "$db" 'SELECT count(*) FROM deliveries')" "$(sqlite3 "$db" 'SELECT count(*) FROM jobs')" \
    "$(field "$work/w.out" accepted202)"
  rm -rf "$work/sqlite-$run"

  # One node on PostgreSQL.
  psql_at postgres "CREATE DATABASE one_$run"
  start_node "pg-$run" "backend = postgres
url = $postgres dbname=one_$run"
  wrk_at "http://127.0.0.1:$port/hooks/github" "$connections" 2 "$work/bodies" "p$run" "$work/w.out"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  record postgres "$run" "$(field "$work/w.out" ok2xx)" "$(field "$work/w.out" seconds)" \
    "$(field "$work/w.out" p50_ms)" "$(field "$work/w.out" p99_ms)" \
    "$(($(field "$work/w.out" non2xx) + $(field "$work/w.out" timeouts)))" \
    "$(psql_at "one_$run" 'SELECT count(*) FROM deliveries')" "$(psql_at "one_$run" 'SELECT count(*) FROM jobs')" \
    "$(field "$work/w.out" accepted202)"
  rm -rf "$work/pg-$run"

  # Two nodes on one PostgreSQL, half the connections each, at once.
  psql_at postgres "CREATE DATABASE two_$run"
  start_node "a-$run" "backend = postgres
url = $postgres dbname=two_$run"
  port_a=$port pid_a=$pid
  start_node "b-$run" "backend = postgres
url = $postgres dbname=two_$run"
  port_b=$port pid_b=$pid
  wrk_at "http://127.0.0.1:$port_a/hooks/github" $((connections / 2)) 1 "$work/first" "a$run" "$work/a.out" &
  wrk_a=$!
  wrk_at "http://127.0.0.1:$port_b/hooks/github" $((connections / 2)) 1 "$work/second" "b$run" "$work/b.out"
  wait "$wrk_a"
  kill -9 "$pid_a" "$pid_b"; wait "$pid_a" "$pid_b" 2>/dev/null || true
  sum() { echo $(($(field "$work/a.out" "$1") + $(field "$work/b.out" "$1"))); }
  record "two nodes" "$run" "$(sum ok2xx)" \
    "$(printf '%s\n%s\n' "$(field "$work/a.out" seconds)" "$(field "$work/b.out" seconds)" | sort -g | tail -n1)" \
    "$(printf '%s\n%s\n' "$(field "$work/a.out" p50_ms)" "$(field "$work/b.out" p50_ms)" | sort -g | tail -n1)" \
    "$(printf '%s\n%s\n' "$(field "$work/a.out" p99_ms)" "$(field "$work/b.out" p99_ms)" | sort -g | tail -n1)" \
    "$(($(sum non2xx) + $(sum timeouts)))" \
    "$(psql_at "two_$run" 'SELECT count(*) FROM deliveries')" "$(psql_at "two_$run" 'SELECT count(*) FROM jobs')" \
    "$(sum accepted202)"
  rm -rf "$work/a-$run" "$work/b-$run"
  echo "run $run: $(tail -n3 "$results" | awk -F'\t' '{printf "%s %.0f/s; ", $1, $3 / $4}')" >&2
done

# column: 1 setup 2 run 3 ok2xx 4 seconds 5 p50 6 p99 7 errors 8 deliveries 9 jobs 10 202
col() { awk -F'\t' -v t="$1" -v k="$2" '$1 == t {print $k}' "$results"; }
rate() { awk -F'\t' -v t="$1" '$1 == t {printf "%.0f\n", $3 / $4}' "$results"; }
out=bench/results/cluster-ingest.md
mkdir -p bench/results
{
  echo "# Webhook ingest on SQLite, on PostgreSQL, and on two nodes sharing PostgreSQL"
  echo
  echo "Run by \`bench/cluster_ingest.sh $runs $duration $connections\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo "PostgreSQL $(psql_at postgres 'SHOW server_version') on this machine, durable (fsync and"
  echo "synchronous_commit on), over TCP on loopback; SQLite with synchronous=FULL. wrk, ${duration} s a run,"
  echo "$connections connections (two nodes: two wrk of $((connections / 2)) at once, one per node; their 2xx"
  echo "summed, the higher of their p50 and p99 shown); $runs runs a row, the set-ups alternating."
  echo "Medians, with the spread (min–max) over the runs."
  echo
  echo "| set-up | 2xx per second | p50 ms | p99 ms | non-2xx and timeouts | against SQLite |"
  echo "|---|---:|---:|---:|---:|---:|"
  base=$(rate sqlite | median)
  for setup in sqlite postgres "two nodes"; do
    r=$(rate "$setup" | median)
    echo "| $setup | $r ($(rate "$setup" | spread %.0f)) | $(col "$setup" 5 | median | xargs printf %.1f)" \
         "($(col "$setup" 5 | spread %.1f)) | $(col "$setup" 6 | median | xargs printf %.1f) ($(col "$setup" 6 | spread %.1f)) |" \
         "$(col "$setup" 7 | median) | $(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2fx", a / b}') |"
  done
  echo
  echo "Durability: rows counted after every node was killed with SIGKILL; every 2xx must be a"
  echo "delivery row and every 202 a job row (requests in flight when wrk stopped may add rows wrk"
  echo "did not count, never the other way round)."
  echo
  echo "| set-up | run | 2xx counted by wrk | delivery rows | 202 counted by wrk | job rows | all recorded |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $8, $10, $9, ($8 >= $3 && $9 >= $10) ? "yes" : "NO"}' "$results"
} >"$out"
cat "$out"
