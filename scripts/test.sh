#!/usr/bin/env bash
# Builds siamcl (installing dependencies if missing) and runs every test on the OpenCL
# device (PoCL on a CPU-only machine). LFW tests run when LFW_DIR is set (defaults to the
# shared copy next to the checkout when it exists).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh -DSIAMCL_WERROR=ON "$@"
if [[ -z "${LFW_DIR:-}" && -d ../shared/data/lfw-deepfunneled ]]; then
  LFW_DIR=$(cd ../shared/data/lfw-deepfunneled && pwd)
  export LFW_DIR
fi
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)"
