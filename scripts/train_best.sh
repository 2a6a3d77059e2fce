#!/usr/bin/env bash
# Trains the chosen recipe (configs/lfw_best.ini, about 5-8 minutes on 2 CPU cores with PoCL) and
# installs its checkpoint as facedb's default model, data/models/lfw_best.ckpt:
#   scripts/train_best.sh [runexp options, e.g. --set experiment.seed=1]
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/lfw_best-$(date +%Y%m%d-%H%M%S)
bash scripts/runexp.sh configs/lfw_best.ini --out "$out" "$@"
mkdir -p data/models
# Copy then rename: a facedb reading the default model never sees half a file.
cp "$out/model.ckpt" data/models/.lfw_best.ckpt.tmp
mv data/models/.lfw_best.ckpt.tmp data/models/lfw_best.ckpt
echo "installed $out/model.ckpt as data/models/lfw_best.ckpt (facedb's default model)"
