#!/usr/bin/env bash
# Sends slipwayd a signed merged pull request for the commit named in
# SHA_FILE and waits until the job it queued has ended (polling every 50 ms);
# exits 0 when the job succeeded. For bench/pipeline.sh.
# Usage: pipeline_trigger.sh BASE_URL SECRET_FILE REPO_NAME SHA_FILE
set -euo pipefail
base=$1 secret_file=$2 repo=$3
sha=$(cat "$4")
payload=$(printf '{"action":"closed","number":1,"pull_request":{"number":1,"merged":true,"merge_commit_sha":"%s","base":{"ref":"main"}},"repository":{"full_name":"%s"}}' "$sha" "$repo")
signature=$(printf '%s' "$payload" | openssl dgst -sha256 -hmac "$(cat "$secret_file")" -r | cut -d' ' -f1)
answer=$(curl -sS -X POST "$base/hooks/github" -H "Content-Type: application/json" \
  -H "X-GitHub-Event: pull_request" -H "X-GitHub-Delivery: bench-$(cat /proc/sys/kernel/random/uuid)" \
  -H "X-Hub-Signature-256: sha256=$signature" --data-binary "$payload")
job=$(printf '%s' "$answer" | sed -n 's/.*"jobs":\[\([0-9]*\).*/\1/p')
[ -n "$job" ] || { echo "pipeline_trigger: no job queued: $answer" >&2; exit 1; }
while :; do
  state=$(curl -sS "$base/api/jobs/$job" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' | head -n1)
  case "$state" in
    succeeded) exit 0 ;;
    failed) echo "pipeline_trigger: job $job failed: $(curl -sS "$base/api/jobs/$job")" >&2; exit 1 ;;
  esac
  sleep 0.05
done
