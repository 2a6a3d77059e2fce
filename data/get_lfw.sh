#!/usr/bin/env bash
# Downloads LFW (deep-funneled images + the official lists) from the LFW site and checks every
# file against data/lfw.md5. Safe to rerun: files already present with the right checksum are
# not fetched again, and nothing is unpacked until the archive has been verified.
#
#   data/get_lfw.sh DEST          ->  DEST/lfw-deepfunneled/{Name/Name_NNNN.jpg, *.txt}
#   LFW_BASE_URL=https://mirror/lfw data/get_lfw.sh DEST   (same files from another place)
#
# Then: export LFW_DIR=DEST/lfw-deepfunneled
set -euo pipefail

usage() {
    echo "usage: $0 DEST_DIR   (downloads about 110 MB; see data/README.md)" >&2
    exit 2
}

[ $# -eq 1 ] || usage
case "$1" in -h | --help) usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
sums="$here/lfw.md5"
base=${LFW_BASE_URL:-http://vis-www.cs.umass.edu/lfw}
dest=$1
lists="pairsDevTrain.txt pairsDevTest.txt pairs.txt peopleDevTrain.txt peopleDevTest.txt people.txt lfw-names.txt"

die() {
    echo "get_lfw: $*" >&2
    exit 1
}

[ -r "$sums" ] || die "missing $sums"

if command -v curl >/dev/null 2>&1; then
    fetch() { curl -fL --progress-bar --retry 3 --connect-timeout 30 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
    fetch() { wget -q --tries=3 --timeout=30 -O "$2" "$1"; }
else
    die "needs curl or wget"
fi

if command -v md5sum >/dev/null 2>&1; then
    md5_of() { md5sum "$1" | cut -d' ' -f1; }
elif command -v md5 >/dev/null 2>&1; then
    md5_of() { md5 -q "$1"; } # macOS
else
    die "needs md5sum (coreutils) or md5"
fi

expected() {
    local want
    want=$(awk -v f="$1" '$2 == f { print $1 }' "$sums")
    [ -n "$want" ] || die "no checksum for $1 in $sums"
    printf '%s\n' "$want"
}

# get NAME URL PATH: download unless PATH already has the right checksum; verify either way.
get() {
    local name=$1 url=$2 path=$3 want got
    want=$(expected "$name")
    if [ -f "$path" ] && [ "$(md5_of "$path")" = "$want" ]; then
        echo "ok (already here): $name"
        return 0
    fi
    echo "downloading $url"
    fetch "$url" "$path.part" || die "download failed: $url"
    got=$(md5_of "$path.part")
    if [ "$got" != "$want" ]; then
        rm -f "$path.part"
        die "$name: md5 $got, expected $want (corrupt download or a different file)"
    fi
    mv -f "$path.part" "$path"
    echo "ok: $name"
}

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
archive="$dest/lfw-deepfunneled.tgz"
get lfw-deepfunneled.tgz "$base/lfw-deepfunneled.tgz" "$archive"

if [ ! -d "$dest/lfw-deepfunneled" ]; then
    echo "unpacking into $dest"
    tmp=$(mktemp -d "$dest/.unpack.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    tar -xzf "$archive" -C "$tmp"
    [ -d "$tmp/lfw-deepfunneled" ] || die "archive has no lfw-deepfunneled/ folder"
    mv "$tmp/lfw-deepfunneled" "$dest/lfw-deepfunneled"
fi

for f in $lists; do
    get "$f" "$base/$f" "$dest/lfw-deepfunneled/$f"
done

count=$(find "$dest/lfw-deepfunneled" -name '*.jpg' -type f | wc -l | tr -d ' ')
[ "$count" -eq 13233 ] || die "found $count images in $dest/lfw-deepfunneled, expected 13233"
people=$(find "$dest/lfw-deepfunneled" -mindepth 1 -maxdepth 1 -type d | wc -l | tr -d ' ')
[ "$people" -eq 5749 ] || die "found $people people folders, expected 5749"

echo "LFW ready: 13233 images of 5749 people, all checksums match."
echo "  export LFW_DIR=$dest/lfw-deepfunneled"
