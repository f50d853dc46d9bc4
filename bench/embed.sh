#!/usr/bin/env bash
# MockIdp::start() to first answer next to wiremock-rs's MockServer::start() (bench/embed).
# usage: bench/embed.sh            env: RUNS=30
#        JITTER=1 bench/embed.sh   built as a crate that depends on mockidp builds it: without this
#                                  repository's AWS_LC_SYS_NO_JITTER_ENTROPY=1 (.cargo/config.toml),
#                                  so AWS-LC's CPU-jitter entropy source is in (target/bench-embed-jitter)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=target/bench-embed
if [ "${JITTER:-0}" = 1 ]; then
    # An explicit environment variable beats .cargo/config.toml's [env] (no `force` there).
    export AWS_LC_SYS_NO_JITTER_ENTROPY=0
    DIR=target/bench-embed-jitter
fi
CARGO_TARGET_DIR=$DIR cargo build --release --manifest-path bench/embed/Cargo.toml >&2
exec "$DIR/release/mockidp-bench-embed"
