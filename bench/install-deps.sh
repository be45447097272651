#!/usr/bin/env bash
# Installs what the benchmarks need beyond scripts/install-deps.sh, all from
# Debian: wrk (HTTP load), webhook (adnanh/webhook, the ingest baseline),
# hyperfine (whole-command timings). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
missing=()
for p in wrk webhook hyperfine; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "bench/install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
