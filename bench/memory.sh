#!/usr/bin/env bash
# Memory after a burst (issue 14): VmRSS of an idle mockidp, after N unredeemed authorization
# codes, and PURGE_WAIT s after the clock was moved past their expiry (one more request then
# purges stores that only purge on insert). The clock is frozen from the burst on. Prints a
# markdown table.
# usage: bench/memory.sh            env: MOCKIDP_BIN=target/release/mockidp (built if missing)
#        PORT=18190 N=100000 THREADS=4 IDLE_S=2 PURGE_WAIT=60
# Only 127.0.0.1 is targeted; the server started here is killed on exit.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
MOCKIDP_BIN=${MOCKIDP_BIN:-target/release/mockidp}
PORT=${PORT:-18190}; N=${N:-100000}; THREADS=${THREADS:-4}; IDLE_S=${IDLE_S:-2}
PURGE_WAIT=${PURGE_WAIT:-60}
BASE=http://127.0.0.1:$PORT
[ -x "$MOCKIDP_BIN" ] || cargo build --release --locked >&2 || exit 1
SRV=""
cleanup() { [ -n "$SRV" ] && { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }; }
trap cleanup EXIT; trap 'exit 130' INT TERM
rss() { awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/$SRV/status"; }
"$MOCKIDP_BIN" --port "$PORT" >/dev/null 2>&1 & SRV=$!
for _ in $(seq 100); do curl -fs "$BASE/_mockidp/ready" >/dev/null && break; sleep 0.1; done
sleep "$IDLE_S"; IDLE=$(rss)
# Frozen during the burst, so that no code expires before the last is made however slow the
# machine (on a busy host the burst outlasts the codes' 60 s lifetime).
curl -fs -X POST "$BASE/_mockidp/clock" -H 'Content-Type: application/json' \
    -d '{"freeze": true}' >/dev/null
START=$(date +%s.%N)
MADE=$(python3 bench/memory_burst.py "$BASE" "$N" "$THREADS") || exit 1
SECS=$(echo "$(date +%s.%N) - $START" | bc)
BURST=$(rss)
# Past every code's lifetime (60 s on Keycloak), then one request that stores something.
curl -fs -X POST "$BASE/_mockidp/clock" -H 'Content-Type: application/json' \
    -d '{"advance_secs": 3600}' >/dev/null
python3 bench/memory_burst.py "$BASE" 1 1 >/dev/null
sleep "$PURGE_WAIT"; AFTER=$(rss)
PER=$(echo "($BURST - $IDLE) * 1048576 / $MADE" | bc)
echo "| $(basename "$MOCKIDP_BIN") ($(git rev-parse --short HEAD)) | idle | after $MADE codes (${SECS%.*} s) | bytes per code | ${PURGE_WAIT} s after expiry | after ÷ idle |"
echo "|---|---|---|---|---|---|"
echo "| VmRSS | $IDLE MB | $BURST MB | $PER | $AFTER MB | $(echo "scale=1; $AFTER / $IDLE" | bc) |"
