#!/usr/bin/env bash
# Configures and builds slipway.
#   scripts/build.sh              build/ (RelWithDebInfo, g++), what run.sh and the suite use
#   scripts/build.sh --sanitize   build-sanitize/ (clang, ASan + UBSan, the libFuzzer targets;
#                                 unit tests and fuzzers only)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  shift
  CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLIPWAY_FUZZ=ON -DSLIPWAY_INTEGRATION_TESTS=OFF "$@" >/dev/null
  cmake --build build-sanitize -j"$(nproc)"
else
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build build -j"$(nproc)"
fi
