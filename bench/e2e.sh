#!/usr/bin/env bash
# End to end: the baseline recipe (configs/lfw_contrastive.ini) in siamcl and in PyTorch
# (../shared/bench/torch_seed.py) on the same first PAIRS DevTrain pairs, one epoch each,
# in one run; prints seconds per full epoch (2,200 pairs) of each and their ratio, and
# siamcl's time to the first training step with a cold and a warm kernel cache.
#   bench/e2e.sh [PAIRS] [TORCH_SCRIPT]
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-320}
TORCH=${2:-../shared/bench/torch_seed.py}
: "${LFW_DIR:?set LFW_DIR to the LFW folder}"
bash scripts/deps.sh --bench
bash scripts/build.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The first PAIRS/2 matched and mismatched DevTrain pairs, and a small test list.
python3 - "$LFW_DIR" "$work" "$PAIRS" <<'PY'
import sys
lfw, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name, keep in (("pairsDevTrain.txt", n // 2), ("pairsDevTest.txt", 10)):
    lines = open(f"{lfw}/{name}").read().split("\n")
    total = int(lines[0]); body = lines[1:1 + 2 * total]
    open(f"{out}/{name}", "w").write("\n".join([str(keep)] + body[:keep] + body[total:total + keep]) + "\n")
PY

run_siamcl() { # $1: kernel cache folder
  POCL_CACHE_DIR=$1 build/runexp configs/lfw_contrastive.ini --quiet --out "$work/run" \
    --set train.epochs=1 --set experiment.eval_every=0 \
    --set data.train_pairs="$work/pairsDevTrain.txt" --set data.test_pairs="$work/pairsDevTest.txt" >/dev/null
  sec=$(python3 -c "import json;print(json.loads(open('$work/run/metrics.jsonl').readline())['seconds'])")
  start=$(sed -n 's/.*startup: \([0-9.]*\) s.*/\1/p' "$work/run/log.txt" | tail -1)
  rm -rf "$work/run"
}
mkdir -p "$work/cold"
run_siamcl "$work/cold"; cold_start=$start
run_siamcl "$work/cold"; warm_start=$start; siamcl_sec=$sec

torch_sec=$(/usr/bin/python3 "$TORCH" --lfw "$LFW_DIR" --epochs 1 --limit "$PAIRS" --threads "$(nproc)" |
  sed -n 's/^epoch 1 loss [0-9.]* \([0-9.]*\) s/\1/p')

python3 - "$PAIRS" "$siamcl_sec" "$torch_sec" "$cold_start" "$warm_start" <<'PY'
import sys
pairs, s, t, cold, warm = int(sys.argv[1]), *map(float, sys.argv[2:])
scale = 2200 / pairs
print(f"baseline recipe, {pairs} pairs measured, scaled to a 2,200-pair epoch:")
print(f"  siamcl  {s * scale:8.1f} s/epoch")
print(f"  PyTorch {t * scale:8.1f} s/epoch")
print(f"  ratio siamcl / PyTorch = {s / t:.2f}  (<= 1.0 means siamcl is faster)")
print(f"  siamcl start to first step: cold {cold:.2f} s, warm {warm:.2f} s")
PY
