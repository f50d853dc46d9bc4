#!/usr/bin/env bash
# Builds the one mockidp binary every package ships: a statically linked glibc executable
# (no shared libraries at all, so it runs on `FROM scratch`, in a wheel and in an npm package on
# any x86_64 Linux), stripped, at target/static/mockidp. Its own target dir keeps the static
# build from invalidating target/release. A second run only re-checks freshness (~1 s): cargo's
# lock on the target dir serialises concurrent callers (tests run in parallel).
#
# glibc >= 2.34 has its `files` and `dns` NSS modules inside libc itself, so getaddrinfo (for
# `mockidp health --url http://name:port`) works in the static binary without libnss_*.so.
# aws-lc-sys builds its C code with the same flags and links statically too.
#   usage: packaging/build-static.sh            prints the binary's path
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-gnu
OUT=target/static
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --quiet --target "$TARGET" --target-dir "$OUT" --bin mockidp
built="$OUT/$TARGET/release/mockidp"
if [ ! -e "$OUT/mockidp" ] || [ "$built" -nt "$OUT/mockidp" ]; then
    # A file of our own, then an atomic rename: parallel callers never see half a binary.
    strip -o "$OUT/mockidp.$$" "$built"
    mv "$OUT/mockidp.$$" "$OUT/mockidp"
fi
# Refuse to hand out a binary that needs a dynamic loader: it would not run on scratch.
if readelf --program-headers "$OUT/mockidp" | grep -q INTERP; then
    echo "build-static: $OUT/mockidp is dynamically linked" >&2
    exit 1
fi
echo "$PWD/$OUT/mockidp"
