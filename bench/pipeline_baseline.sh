#!/usr/bin/env bash
# The baseline for bench/pipeline.sh: what one would script instead of slipway.
# Clones the repository, then per service docker build, docker push and
# docker rmi, one after another.
# Usage: pipeline_baseline.sh REPO_URL REGISTRY_HOST SERVICE:VERSION...
set -euo pipefail
url=$1 registry=$2
shift 2
dir=$(mktemp -d /tmp/slipway-bench-clone.XXXXXX)
trap 'rm -rf "$dir"' EXIT
git clone -q "$url" "$dir/repo"
for entry in "$@"; do
  service=${entry%%:*}
  image=$registry/$service:${entry#*:}
  docker build -q -t "$image" "$dir/repo/$service" >/dev/null
  docker push -q "$image" >/dev/null
  docker rmi "$image" >/dev/null
done
