#!/usr/bin/env bash
# Makes sure this host can build linux/arm64 images: binfmt_misc mounted and
# Debian's qemu-user-static emulator for aarch64 registered with the F flag
# (so that a container's RUN steps reach it). Exits non-zero saying what is
# missing when it cannot.
set -euo pipefail
binfmt=/proc/sys/fs/binfmt_misc
entry=$binfmt/qemu-aarch64

usable() { [ -r "$entry" ] && head -n 1 "$entry" | grep -qx enabled && grep -q '^flags: .*F' "$entry"; }
usable && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-emulation: no usable arm64 emulator ($entry) and registering one needs root" >&2
  exit 1
fi
if [ ! -e "$binfmt/status" ]; then
  mount -t binfmt_misc binfmt_misc "$binfmt"
fi
if [ ! -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] && [ ! -e /usr/bin/qemu-aarch64-static ]; then
  echo "ensure-emulation: qemu-user-static is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
# binfmt-support's records, as qemu-user-static installs them; systemd-binfmt's otherwise.
if command -v update-binfmts >/dev/null 2>&1; then
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
fi
if ! usable && [ -r /usr/lib/binfmt.d/qemu-aarch64.conf ] && [ ! -e "$entry" ]; then
  # The line systemd-binfmt would write; the F flag opens the interpreter now.
  grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register" || true
fi
if ! usable; then
  echo "ensure-emulation: could not register the arm64 emulator; $entry reads:" >&2
  cat "$entry" >&2 2>/dev/null || echo "(missing)" >&2
  exit 1
fi
