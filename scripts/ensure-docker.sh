#!/usr/bin/env bash
# Makes sure a Docker engine answers on the default socket. When none does, it
# starts Debian's dockerd in the background and writes its pid to the file
# given as $1 (so that the caller can stop what it started).
set -euo pipefail
pidfile=${1:-}

if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-docker: no Docker engine answers and starting dockerd needs root" >&2
  exit 1
fi
log=/var/log/slipway-dockerd.log
echo "ensure-docker: no engine answers; starting dockerd (log: $log)"
# systemd starts it where there is one; elsewhere (containers, CI VMs) run it directly.
if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
  :
else
  nohup dockerd >"$log" 2>&1 &
  [ -n "$pidfile" ] && echo $! >"$pidfile"
fi
for _ in $(seq 1 60); do
  if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "ensure-docker: dockerd did not answer within 30 s; the end of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
