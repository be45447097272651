#!/usr/bin/env bash
# Puts promtool (from Debian's prometheus package) at DIR/promtool for the
# tests that check /metrics, without installing the package: that would also
# install and start a Prometheus server.
set -euo pipefail
dir=$(realpath -m "${1:?usage: fetch-promtool.sh DIR}")
[ -x "$dir/promtool" ] && exit 0
if command -v promtool >/dev/null 2>&1; then
  mkdir -p "$dir" && ln -sf "$(command -v promtool)" "$dir/promtool"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt's download user must be able to write here
(cd "$work" && apt-get download -q prometheus >/dev/null 2>&1) || {
  apt-get update -qq && (cd "$work" && apt-get download -q prometheus >/dev/null)
}
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$dir"
cp "$work/root/usr/bin/promtool" "$dir/promtool"
