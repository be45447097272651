#!/usr/bin/env bash
# Sends a webhook signed the way GitHub signs it (X-Hub-Signature-256).
# Usage:
#   send-webhook.sh --demo                  a merged pull request of scripts/run.sh's demo repository
#   send-webhook.sh EVENT PAYLOAD_FILE      any payload, e.g. one saved from GitHub's delivery log
# Environment: SLIPWAY_STATE (default ./state) for the secret, SLIPWAY_URL for the endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
state=$(realpath -m "${SLIPWAY_STATE:-$PWD/state}")
url=${SLIPWAY_URL:-http://127.0.0.1:8080/hooks/github}
secret_file="$state/webhook.secret"
[ -s "$secret_file" ] || { echo "send-webhook: no secret at $secret_file" >&2; exit 1; }

if [ "${1:-}" = "--demo" ]; then
  event=pull_request
  sha=$(git -C "$state/demo-repo" rev-parse HEAD)
  payload=$(printf '{"action":"closed","number":1,"pull_request":{"number":1,"merged":true,"merge_commit_sha":"%s","base":{"ref":"main"}},"repository":{"full_name":"slipway/demo"}}' "$sha")
else
  event=${1:?usage: send-webhook.sh --demo | EVENT PAYLOAD_FILE}
  payload=$(cat "${2:?usage: send-webhook.sh EVENT PAYLOAD_FILE}")
fi
# openssl takes the key as an argument: fine for a local test tool, not for production secrets.
signature=$(printf '%s' "$payload" | openssl dgst -sha256 -hmac "$(cat "$secret_file")" -r | cut -d' ' -f1)
curl -sS -X POST "$url" \
  -H "Content-Type: application/json" \
  -H "X-GitHub-Event: $event" \
  -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" \
  -H "X-Hub-Signature-256: sha256=$signature" \
  --data-binary "$payload"
echo
