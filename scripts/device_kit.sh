#!/usr/bin/env bash
# Packs what a machine with an OpenCL driver but none of siamcl's Debian packages needs to
# run siamcl's tests and benchmarks there (a lent GPU machine: x86-64, nothing to install
# from): a Release build's programs and every shared library they load except glibc's,
# plus DejaVu fonts for the plots, into devkit/ (ignored by git). Carry devkit/ along with
# the checkout and run scripts/device_check.sh there.
#   bash scripts/device_kit.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:-devkit}
# Without the benchmarks' host-library comparisons (OpenBLAS alone is 36 MB; the carried
# tree is limited to 64 MiB).
BUILD_DIR=build-kit BUILD_TYPE=Release bash scripts/build.sh -DSIAMCL_BENCH_HOST_LIBS=OFF
rm -rf "$kit"
mkdir -p "$kit/bin" "$kit/lib" "$kit/fonts"
cp build-kit/runexp build-kit/facedb build-kit/bench_* build-kit/test_* "$kit/bin/"
strip "$kit"/bin/*

# glibc stays the target's own: its loader and libc must match each other.
glibc='/(ld-linux[^/]*|lib(c|m|dl|pthread|rt|resolv|util|gcc_s|mvec))\.so'
for b in "$kit"/bin/*; do ldd "$b"; done |
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | grep -Ev "$glibc" |
  while read -r l; do cp -L "$l" "$kit/lib/"; done

# The newest glibc symbol version each file needs: device_check.sh compares them with the
# target's glibc and takes the target's own copy of a library that needs a newer one.
for f in "$kit"/bin/* "$kit"/lib/*; do
  v=$(objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  echo "${f#"$kit"/} ${v:-0}"
done >"$kit/glibc-needed"
cp /usr/share/fonts/truetype/dejavu/DejaVuSans{,-Bold}.ttf "$kit/fonts/"
git rev-parse --short HEAD >"$kit/commit"
pwd >"$kit/source-dir" # baked into the programs (facedb's default model, tests' data)
newest=$(awk '{print $2}' "$kit/glibc-needed" | sort -V | tail -1)
echo "device_kit: $(du -sh "$kit" | cut -f1) in $kit/ (commit $(cat "$kit/commit"); its files need glibc $newest at most)"
