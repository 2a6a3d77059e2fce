#!/usr/bin/env bash
# Installs dependencies if missing and builds siamcl into ${BUILD_DIR:-build}.
# Extra arguments go to cmake's configure step (e.g. -DSIAMCL_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
