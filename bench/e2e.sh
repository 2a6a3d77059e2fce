#!/usr/bin/env bash
# End to end: the baseline recipe (configs/lfw_contrastive.ini) in siamcl and in PyTorch
# (../shared/bench/torch_seed.py) on the same first PAIRS DevTrain pairs, two epochs each,
# in one run, in alternating rounds; prints seconds per full epoch (2,200 pairs) of each,
# each round's ratio and the median, and siamcl's time to the first training step with a
# cold and a warm kernel cache. The ratio is taken on the second epoch: the first carries
# one-off costs (siamcl loads each kernel from the cache on first use, and every buffer's
# first touch), which 320 pairs scaled to 2,200 multiplied by 6.9; a 30-epoch run pays
# them once. The first epoch's ratio is printed too.
#   bench/e2e.sh [PAIRS] [TORCH_SCRIPT]     (ROUNDS=3 in the environment: alternating rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-320}
TORCH=${2:-../shared/bench/torch_seed.py}
ROUNDS=${ROUNDS:-3}
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
    --set train.epochs=2 --set experiment.eval_every=0 \
    --set data.train_pairs="$work/pairsDevTrain.txt" --set data.test_pairs="$work/pairsDevTest.txt" >/dev/null
  sec=$(python3 -c "import json;e=[json.loads(l)['seconds'] for l in open('$work/run/metrics.jsonl') if '\"seconds\"' in l];print(f'{e[0]}:{e[1]}')")
  start=$(sed -n 's/.*startup: \([0-9.]*\) s.*/\1/p' "$work/run/log.txt" | tail -1)
  rm -rf "$work/run"
}
mkdir -p "$work/cold"
run_siamcl "$work/cold"; cold_start=$start
# ROUNDS alternating siamcl / PyTorch epochs: the host's speed drifts by 1.5x within
# minutes, so each round's ratio is taken from neighbouring runs and the median reported.
results=()
for _ in $(seq "$ROUNDS"); do
  run_siamcl "$work/cold"
  torch_sec=$(/usr/bin/python3 "$TORCH" --lfw "$LFW_DIR" --epochs 2 --limit "$PAIRS" --threads "$(nproc)" |
    sed -n 's/^epoch [12] loss [0-9.]* \([0-9.]*\) s/\1/p' | paste -sd:)
  results+=("$sec:$torch_sec:$start")
done

python3 - "$PAIRS" "$cold_start" "${results[@]}" <<'PY2'
import statistics, sys
pairs, cold = int(sys.argv[1]), float(sys.argv[2])
# each round: siamcl epoch 1, epoch 2, PyTorch epoch 1, epoch 2, siamcl's warm start
rounds = [tuple(map(float, r.split(":"))) for r in sys.argv[3:]]
scale = 2200 / pairs
print(f"baseline recipe, {pairs} pairs measured, scaled to a 2,200-pair epoch (second epoch):")
for i, (s1, s, t1, t, _) in enumerate(rounds, 1):
    print(f"  round {i}: siamcl {s * scale:6.1f} s/epoch, PyTorch {t * scale:6.1f} s/epoch, ratio {s / t:.2f}"
          f"   (first epoch: {s1 * scale:.1f} vs {t1 * scale:.1f} s, {s1 / t1:.2f})")
ratio = statistics.median(r[1] / r[3] for r in rounds)
first = statistics.median(r[0] / r[2] for r in rounds)
print(f"  median ratio siamcl / PyTorch = {ratio:.2f} over {len(rounds)} rounds  (<= 1.0 means siamcl is faster)")
print(f"  first epochs, with their one-off costs: median ratio {first:.2f}")
warm = statistics.median(r[4] for r in rounds)
print(f"  siamcl start to first step: cold {cold:.2f} s, warm {warm:.2f} s (median)")
PY2
