#!/usr/bin/env bash
# Installs the Debian packages siamcl needs, only when some are missing (idempotent).
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  libclblast-dev libpng-dev libjpeg62-turbo-dev libexif-dev libinih-dev libsqlite3-dev libcairo2-dev
  fonts-dejavu-core libcriterion-dev
)
# Extra packages for the benchmarks only: `scripts/deps.sh --bench`.
if [[ "${1:-}" == "--bench" ]]; then
  PACKAGES+=(python3-torch python3-pil python3-numpy libfaiss-dev libopenblas0-pthread libopenblas-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "siamcl needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
