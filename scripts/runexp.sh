#!/usr/bin/env bash
# Builds siamcl (installing dependencies if missing) and runs an experiment:
#   scripts/runexp.sh configs/lfw_contrastive.ini [runexp options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
if [[ -z "${LFW_DIR:-}" && -d ../shared/data/lfw-deepfunneled ]]; then
  LFW_DIR=$(cd ../shared/data/lfw-deepfunneled && pwd)
  export LFW_DIR
fi
exec "${BUILD_DIR:-build}/runexp" "$@"
