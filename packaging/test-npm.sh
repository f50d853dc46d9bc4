#!/usr/bin/env bash
# The npm packages, for real: stages `mockidp` and `@mockidp/linux-x64` (the static binary inside),
# packs both with `npm pack`, installs the tarballs into a fresh folder, offline (the test's own
# pinned dependency, openid-client, comes from the npm cache that .ci/run filled with `npm ci`),
# and runs the node:test suite in packaging/npm/test. Run by tests/it/packaging.rs.
#   usage: packaging/test-npm.sh        prints the two tarballs' paths on success
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAGE=target/packages/npm
CONSUMER=target/ci/npm-consumer
[ -d target/ci/npm-deps/node_modules/openid-client ] \
    || { echo "test-npm: no target/ci/npm-deps (made by .ci/run)" >&2; exit 1; }

binary=$(packaging/build-static.sh)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -r packaging/npm/mockidp packaging/npm/linux-x64 "$STAGE/"
for pkg in mockidp linux-x64; do
    cp LICENSE-MIT LICENSE-APACHE "$STAGE/$pkg/"
    node -e 'const p = require(process.argv[1]); if (p.version !== process.argv[2]) { console.error(`${p.name} is ${p.version}, Cargo.toml ${process.argv[2]}`); process.exit(1) }' \
        "$ROOT/$STAGE/$pkg/package.json" "$version"
done
mkdir -p "$STAGE/linux-x64/bin"
cp "$binary" "$STAGE/linux-x64/bin/mockidp"
tarballs=()
for pkg in linux-x64 mockidp; do
    name=$(cd "$STAGE/$pkg" && npm pack --silent --pack-destination "$ROOT/$STAGE")
    tarballs+=("$ROOT/$STAGE/$name")
done

rm -rf "$CONSUMER"
mkdir -p "$CONSUMER"
cp packaging/npm/test/package.json packaging/npm/test/package-lock.json packaging/npm/test/*.test.mjs "$CONSUMER/"
cp "${tarballs[@]}" "$CONSUMER/"
cd "$CONSUMER"
export npm_config_offline=true npm_config_audit=false npm_config_fund=false npm_config_loglevel=warn
npm ci
# The README's command (tests/it/packaging.rs checks it), from the packed tarballs.
npm install --save-dev ./mockidp-linux-x64-0.1.0.tgz ./mockidp-0.1.0.tgz
unset MOCKIDP_BIN
node --test
printf '%s\n' "${tarballs[@]}"
