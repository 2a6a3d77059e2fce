#!/usr/bin/env bash
# Runs siamcl's tests and benchmarks on another machine's OpenCL driver (a lent GPU machine)
# from the kit scripts/device_kit.sh packed here: run from the checkout there, with devkit/
# carried beside it. Nothing is installed; the kit's libraries are used through
# LD_LIBRARY_PATH and, when the system does not list NVIDIA's OpenCL driver, an ICD file
# made for its library where it is found.
#   bash scripts/device_check.sh [OUTDIR]     (default $OUT, else devkit-out)
# Writes OUTDIR/summary.txt (what ran, pass/fail, the headline figures), devices.txt,
# tests.log and bench.log. CHECK_BUDGET_S (default 420) bounds the whole run: a benchmark
# is stopped at what is left of it, or skipped when under 20 s is left, and the summary says
# so. Exits 0 when every test passed and no benchmark failed. SIAMCL_DEVICE picks the device as everywhere else
# (default: the first GPU). CHECK_TESTS="test_a test_b" runs only those test binaries (CI
# checks the kit that way).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
src=$PWD
kit=${KIT:-$src/devkit}
out=${1:-${OUT:-$src/devkit-out}}
budget=${CHECK_BUDGET_S:-420}
start=$(date +%s)
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
: >"$out/tests.log"
: >"$out/bench.log"
say() { echo "$*" | tee -a "$summary"; }

if [[ ! -x $kit/bin/runexp ]]; then
  say "device_check: no kit in $kit (run scripts/device_kit.sh on a machine with the packages, then carry devkit/)"
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Libraries: the kit's, except where the kit's copy needs a newer glibc than this system's
# (then the system's own copy, if it has one) and the C++ runtime (the system's is at least
# as new on any recent system, and its OpenCL driver may need it).
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
mkdir -p "$tmp/lib"
while read -r f need; do
  [[ $f == lib/* ]] || continue
  name=${f#lib/}
  sys=$(ldconfig -p | awk -v n="$name" '$1 == n {print $NF; exit}')
  newer=$(printf '%s\n%s\n' "$need" "$glibc" | sort -V | tail -1)
  if [[ -n $sys && ($name == libstdc++.so.6 || $newer != "$glibc") ]]; then
    continue # the system's copy
  fi
  [[ $newer != "$glibc" ]] && say "warning: $name needs glibc $need, this system has $glibc and no copy of its own"
  ln -s "$kit/$f" "$tmp/lib/$name"
done <"$kit/glibc-needed"
export LD_LIBRARY_PATH=$tmp/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# The OpenCL driver: the system's ICD files, plus one made for NVIDIA's library when it is
# present but not listed.
if [[ -z ${OCL_ICD_VENDORS:-} ]] && ! grep -qs nvidia /etc/OpenCL/vendors/*.icd; then
  nv=$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/local/cuda* -name 'libnvidia-opencl.so*' \
    2>/dev/null | sort | head -1)
  if [[ -n $nv ]]; then
    mkdir -p "$tmp/vendors"
    cp /etc/OpenCL/vendors/*.icd "$tmp/vendors/" 2>/dev/null
    echo "$nv" >"$tmp/vendors/nvidia.icd"
    export OCL_ICD_VENDORS=$tmp/vendors
    say "OpenCL driver: $nv (ICD file made for it)"
  elif ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
    say "OpenCL driver: none listed in /etc/OpenCL/vendors and no libnvidia-opencl.so found"
  fi
fi

# Fonts for the plots, and the paths the kit's programs were built with (tests and facedb
# find the checkout's data there).
cat >"$tmp/fonts.conf" <<EOF
<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>$kit/fonts</dir><cachedir>$tmp/fontcache</cachedir></fontconfig>
EOF
export FONTCONFIG_FILE=$tmp/fonts.conf
built=$(cat "$kit/source-dir")
if [[ $built != "$src" && ! -e $built ]]; then
  mkdir -p "$(dirname "$built")" && ln -s "$src" "$built"
fi
# Kernel and tuning caches: the caller's, else empty ones (cold builds are timed too).
export SIAMCL_CACHE_DIR=${SIAMCL_CACHE_DIR:-$tmp/cache} POCL_CACHE_DIR=${POCL_CACHE_DIR:-$tmp/pocl}
export SIAMCL_TEST_DIR=$src/tests SIAMCL_SOURCE_DIR=$src

say "siamcl device check: kit of commit $(cat "$kit/commit"), checkout $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'), glibc $glibc, $(nproc) cores"
if ! "$kit/bin/runexp" --devices >"$out/devices.txt" 2>&1; then
  say "no OpenCL device: $(tail -3 "$out/devices.txt")"
  exit 1
fi
tee -a "$summary" <"$out/devices.txt"

left() { echo $((budget - ($(date +%s) - start))); }

# Tests: every binary, a few at a time, run where ctest runs them (beside runexp and
# facedb, which some start), each log whole in tests.log.
say "== tests"
mkdir -p "$tmp/tests"
# shellcheck disable=SC2016 # $0 and $1 are the inner shell's
for t in ${CHECK_TESTS:-$(cd "$kit/bin" && echo test_*)}; do
  printf '%s\0' "$kit/bin/$t"
done | xargs -0 -P 4 -I{} sh -c \
  'cd "$1" && t=$(basename {}) && timeout 300 {} --jobs 1 --verbose=0 >"$0/$t.log" 2>&1; echo $? >"$0/$t.rc"' \
  "$tmp/tests" "$kit/bin"
pass=0
fail=()
for rc in "$tmp"/tests/*.rc; do
  t=$(basename "$rc" .rc)
  { echo "=== $t (exit $(cat "$rc"))"; cat "$tmp/tests/$t.log"; } >>"$out/tests.log"
  if [[ $(cat "$rc") == 0 ]]; then pass=$((pass + 1)); else fail+=("$t"); fi
done
say "tests: $pass passed, ${#fail[@]} failed${fail:+: ${fail[*]}} ($(($(date +%s) - start)) s so far)"

bench_failed=()
# Benchmarks, most wanted first; each gets what is left of the budget, at most its own cap.
bench() {
  local cap=$1
  shift
  local t
  t=$(left)
  if ((t < 20)); then
    say "skipped (budget spent): $*"
    return
  fi
  ((t > cap)) && t=$cap
  echo "=== $* (limit ${t} s)" >>"$out/bench.log"
  local b0 prog=$kit/bin/$1
  b0=$(date +%s)
  shift
  timeout "$t" "$prog" "$@" >>"$out/bench.log" 2>&1
  local rc=$? what
  what="$(basename "$prog")${*:+ $*}"
  if ((rc == 124)); then # a time limit, not a failure: said, not counted
    say "$what: stopped at its limit of $t s"
    return
  fi
  ((rc == 0)) || bench_failed+=("$what")
  say "$what: exit $rc in $(($(date +%s) - b0)) s"
}
say "== benchmarks"
bench 60 bench_peak
bench 150 bench_gemm
bench 90 bench_net configs/lfw_contrastive.ini
bench 120 bench_kernels
bench 120 bench_gemm --best
bench 60 bench_conv
bench 60 bench_identify
grep -E "^(peak FP32|all shapes above|one training step)" "$out/bench.log" | tee -a "$summary"
say "done in $(($(date +%s) - start)) s"
# Exit status: 0 only when every test and every benchmark that ran passed.
[[ ${#fail[@]} -eq 0 && ${#bench_failed[@]} -eq 0 ]]
