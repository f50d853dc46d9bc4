#!/usr/bin/env bash
# The release tarball: dist/mockidp-VERSION-x86_64-linux.tar.gz (the static binary, the
# fixtures it can serve with --config, the licences, the README) and its .sha256, which
# `sha256sum -c` checks. Same inputs, same bytes (sorted names, fixed owner and times).
#   usage: packaging/build-release.sh        prints the tarball's path
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(packaging/build-static.sh)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
name=mockidp-$version-x86_64-linux
stage=target/packages/release/$name
rm -rf "$stage"
mkdir -p "$stage" dist
cp "$binary" "$stage/mockidp"
cp -r fixtures "$stage/fixtures"
cp LICENSE-MIT LICENSE-APACHE README.md "$stage/"
tar --create --directory "$(dirname "$stage")" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime=@0 --mode=u+w,go-w "$name" | gzip -9 -n > "dist/$name.tar.gz"
(cd dist && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "$PWD/dist/$name.tar.gz"
