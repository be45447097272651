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
