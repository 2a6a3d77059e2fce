#!/usr/bin/env bash
# Compiles every cl/*.cl as strict OpenCL C 1.2 with warnings as errors, so a construct
# another vendor's compiler would reject fails here first (PoCL is more lenient).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# Twice: as GPUs build them, and with SC_CPU_HINTS as CPU devices do (src/runtime/program.c).
# Code that only a host #define compiles in gets those defines too (variants below).
variants() {
  echo ""
  case "$1" in
    cl/gemm.cl) echo "-DMV=1 -DNR=6 -DKC=64 -DCS=1024"; echo "-DMV=2 -DNR=3 -DKC=64 -DCS=1024" ;;
  esac
}
for f in cl/*.cl; do
  while IFS= read -r extra; do
    for defs in "" "-DSC_CPU_HINTS"; do
      all="$extra${extra:+ }$defs"
      if ! clang -x cl -cl-std=CL1.2 -Xclang -finclude-default-header -fsyntax-only \
           -Wall -Wextra -Werror -Wno-unused-parameter $all "$f"; then
        echo "FAILED: $f is not clean OpenCL C 1.2 ${all:+(with $all)}" >&2
        status=1
      fi
    done
  done < <(variants "$f")
done
files=(cl/*.cl); n=${#files[@]}
[[ $status -eq 0 ]] && echo "OpenCL C 1.2 check: $n kernel files clean"
exit $status
