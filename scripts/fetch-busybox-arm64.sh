#!/usr/bin/env bash
# Puts an arm64 busybox (from Debian's busybox-static:arm64) at DIR/busybox-arm64,
# for the tests that build images for linux/arm64 without pulling a base image.
# apt reads the arm64 package list into a folder of its own: dpkg's
# architectures and the system's package lists are left as they are.
set -euo pipefail
dir=$(realpath -m "${1:?usage: fetch-busybox-arm64.sh DIR}")
[ -x "$dir/busybox-arm64" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt's own user reads the package lists it fetched through here
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial"
touch "$work/status"
apt_arm64=(apt-get -q -o "Dir::State=$work/state" -o "Dir::State::status=$work/status" -o "Dir::Cache=$work/cache"
  -o APT::Architecture=arm64 -o APT::Architectures::=arm64)
if ! "${apt_arm64[@]}" update >"$work/update.log" 2>&1; then
  echo "fetch-busybox-arm64: apt-get update of the arm64 package list failed:" >&2
  tail -n 20 "$work/update.log" >&2
  exit 1
fi
(cd "$work" && "${apt_arm64[@]}" download busybox-static >/dev/null 2>&1) || {
  echo "fetch-busybox-arm64: apt-get download busybox-static:arm64 failed" >&2
  exit 1
}
dpkg-deb -x "$work"/busybox-static_*_arm64.deb "$work/root"
binary=$(find "$work/root" -path '*bin/busybox' -type f | head -n 1)
[ -n "$binary" ] || { echo "fetch-busybox-arm64: no bin/busybox in busybox-static:arm64" >&2; exit 1; }
mkdir -p "$dir"
# Whole or not at all: the check at the top takes any file it finds.
cp "$binary" "$dir/.busybox-arm64.partial"
mv "$dir/.busybox-arm64.partial" "$dir/busybox-arm64"
