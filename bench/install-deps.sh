#!/usr/bin/env bash
# Installs what the benchmarks need beyond what slipway needs, all from Debian:
# wrk (HTTP load), webhook (adnanh/webhook, the ingest baseline), hyperfine
# (whole-command timings), buildah (the manifest tool multi_platform.sh times
# slipway against). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/install-deps.sh wrk webhook hyperfine buildah
