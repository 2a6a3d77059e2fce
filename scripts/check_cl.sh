#!/usr/bin/env bash
# Compiles every cl/*.cl as strict OpenCL C 1.2 with warnings as errors, so a construct
# another vendor's compiler would reject fails here first (PoCL is more lenient).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# Twice: as GPUs build them, and with SC_CPU_HINTS as CPU devices do (src/runtime/program.c).
for f in cl/*.cl; do
  for defs in "" "-DSC_CPU_HINTS"; do
    if ! clang -x cl -cl-std=CL1.2 -Xclang -finclude-default-header -fsyntax-only \
         -Wall -Wextra -Werror -Wno-unused-parameter $defs "$f"; then
      echo "FAILED: $f is not clean OpenCL C 1.2 ${defs:+(with $defs)}" >&2
      status=1
    fi
  done
done
files=(cl/*.cl); n=${#files[@]}
[[ $status -eq 0 ]] && echo "OpenCL C 1.2 check: $n kernel files clean"
exit $status
