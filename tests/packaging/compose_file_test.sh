#!/usr/bin/env bash
# docker-compose.yml is valid for Debian's docker-compose (schema and
# variables), names files that are in the tree, and the slipwayd config it
# mounts passes --check-config with its secrets where compose puts them. No
# image can be pulled here, so the services themselves are not started.
# Usage: compose_file_test.sh SOURCE_DIR SLIPWAYD
set -euo pipefail
source_dir=${1:?usage: compose_file_test.sh SOURCE_DIR SLIPWAYD}
slipwayd=${2:?}
fail() { echo "FAIL: $*"; exit 1; }
command -v docker-compose >/dev/null || fail "docker-compose is not installed (scripts/install-deps.sh installs it)"

cd "$source_dir"
DOCKER_GID=12345 docker-compose -f docker-compose.yml config -q || fail "docker-compose config refuses docker-compose.yml"
resolved=$(DOCKER_GID=12345 docker-compose -f docker-compose.yml config)
grep -q "12345" <<<"$resolved" || fail "DOCKER_GID does not reach group_add"
if docker-compose -f docker-compose.yml config -q 2>/dev/null; then
  fail "docker-compose.yml is accepted without DOCKER_GID, which would leave slipwayd without the socket"
fi
for file in Dockerfile .dockerignore etc/compose.ini; do
  [ -f "$file" ] || fail "docker-compose.yml needs $file"
done

credentials=$(mktemp -d)
trap 'rm -rf "$credentials"' EXIT
echo webhook-secret >"$credentials/webhook.secret"
echo api-token >"$credentials/api.token"
CREDENTIALS_DIRECTORY=$credentials "$slipwayd" --config etc/compose.ini --check-config ||
  fail "slipwayd --check-config refuses etc/compose.ini"
echo "ok: docker-compose.yml and etc/compose.ini"
