#!/usr/bin/env bash
# MockIdp::start() to first answer next to wiremock-rs's MockServer::start() (bench/embed).
# usage: bench/embed.sh     env: RUNS=30; AWS_LC_SYS_NO_JITTER_ENTROPY is left as the caller set it
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/bench-embed cargo build --release --manifest-path bench/embed/Cargo.toml >&2
exec target/bench-embed/release/mockidp-bench-embed
