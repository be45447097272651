#!/usr/bin/env bash
# Installs what slipway builds, runs and tests with, all from Debian's packages,
# and any further packages named as arguments (bench/install-deps.sh names its own).
# Safe to run again: it only calls apt-get when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates curl openssl
  libpoco-dev libsqlitecpp-dev libsqlite3-dev sqlite3 libgit2-dev libarchive-dev libsimdjson-dev libsystemd-dev
  libgtest-dev libgmock-dev libyaml-cpp-dev clang libclang-rt-14-dev
  # PostgreSQL, for several nodes: libpq to reach it, the server for the tests
  # (each starts a cluster of its own in a temporary folder).
  libpq-dev postgresql
  docker.io docker-registry busybox-static apache2-utils iproute2
  # The packaging tests: cpack's dpkg-shlibdeps (dpkg-dev, file), systemd-analyze,
  # dpkg -i of the package (adduser), setpriv (util-linux), docker-compose.yml.
  dpkg-dev file systemd adduser util-linux docker-compose
  # The systemd test boots a Debian root filesystem of its own in a container.
  debootstrap
  # Multi-platform builds: arm64 (and other) binaries run under qemu, through binfmt_misc.
  qemu-user-static binfmt-support
)

# The tests replay GitHub's example payloads from the npm registry.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
