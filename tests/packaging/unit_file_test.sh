#!/usr/bin/env bash
# The unit the package installs passes `systemd-analyze verify` without a
# single warning, and `systemd-analyze security` rates its exposure no higher
# than MAX_EXPOSURE (in tenths, as --threshold takes it: 13 is "1.3"). A bad
# configuration is not restarted in a loop.
# slipway.socket passes verify beside it, and the service stops the way
# running builds need (KillMode=mixed) and says when it is ready (Type=notify).
# Usage: unit_file_test.sh UNIT SLIPWAYD MAX_EXPOSURE SOCKET
#   UNIT      the unit as configured for installation (build/packaging/slipway.service)
#   SLIPWAYD  the built binary: verify wants ExecStart's program to exist, so
#             a copy of the unit points there instead of the installed path
#   SOCKET    systemd/slipway.socket
set -euo pipefail
unit=${1:?usage: unit_file_test.sh UNIT SLIPWAYD MAX_EXPOSURE SOCKET}
slipwayd=${2:?}
max_exposure=${3:?}
socket=${4:?}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

installed=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -n "$installed" ] || { echo "FAIL: $unit has no ExecStart="; exit 1; }
sed "s#$installed#$slipwayd#g" "$unit" >"$scratch/slipway.service"
cp "$socket" "$scratch/slipway.socket"

# verify exits 0 on directives it ignores ("Failed to parse ..., ignoring"), so any output fails the test.
if ! output=$(systemd-analyze verify --man=no "$scratch/slipway.service" "$scratch/slipway.socket" 2>&1) ||
  [ -n "$output" ]; then
  echo "FAIL: systemd-analyze verify $unit:"
  echo "$output"
  exit 1
fi
echo "ok: systemd-analyze verify accepts $unit"

# RestartPreventExitStatus= looks only at ExecStart's status: a bad
# configuration caught by an ExecStartPre= check would be restarted for ever.
if grep -q '^ExecStartPre=' "$unit"; then
  echo "FAIL: $unit has ExecStartPre=, whose failure Restart=on-failure restarts despite RestartPreventExitStatus=78"
  exit 1
fi
grep -qx 'RestartPreventExitStatus=78' "$unit" || { echo "FAIL: $unit does not keep exit 78 (bad configuration) from restarting"; exit 1; }
echo "ok: a bad configuration (exit 78) is not restarted"
# The default KillMode (control-group) sends SIGTERM to the docker children
# with slipwayd's, failing the builds slipwayd would let finish.
grep -qx 'KillMode=mixed' "$unit" || { echo "FAIL: $unit lacks KillMode=mixed: a stop would kill running builds"; exit 1; }
grep -qx 'Type=notify' "$unit" || { echo "FAIL: $unit is not Type=notify"; exit 1; }
echo "ok: KillMode=mixed, Type=notify"

status=0
report=$(systemd-analyze security --offline=yes --threshold="$max_exposure" "$scratch/slipway.service" 2>&1) || status=$?
echo "$report" | grep -F "✗" || true
echo "$report" | tail -n 1
if [ "$status" -ne 0 ]; then
  echo "FAIL: systemd-analyze security rates the unit above $max_exposure tenths (status $status)"
  exit 1
fi
echo "ok: exposure at most $max_exposure tenths"
