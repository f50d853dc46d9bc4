#!/usr/bin/env bash
# mockidp benchmark, one run, prints markdown tables:
#   1. openssl RSA-2048 sign/s, 1 process and -multi 2 (the RS256 ceiling on this box)
#   2. client_credentials tokens/s with wrk (-t2 -c16, warm-up then ROUNDS x DUR s, --latency), each
#      round paired with an openssl -multi 2 run just before it; the median ratio is reported
#   3. cold start: exec -> first 200 on the discovery URL (bench/startup.py, median of STARTS)
#   4. VmRSS idle (after IDLE_S s) and after the load run
#   5. peers side by side via ../shared/bench/run-peers.sh (when present; PEERS=0 skips)
#   6. the floor: bench/floor (read request, sign, answer; nothing else) under the same wrk, in each
#      round right after mockidp, so mockidp's own cost shows apart from the machine's (FLOOR=0 skips)
# usage: bench/run.sh [--install] [--no-peers]        (run from anywhere; uses the repo root)
# env:   MOCKIDP_BIN=target/release/mockidp (built if missing)  PORT=18180  DUR=10 WARM_S=3
#        CONC=16 THREADS=2 ROUNDS=3 STARTS=10 IDLE_S=2 OSSL_S=5 PEERS=1 PEER_SYSTEMS="oms panva mockidp"
#        FLOOR=1  PEERS_DIR=/tmp/peers  MAX_LOAD=1.0 LOAD_WAIT=300 (wait up to LOAD_WAIT s for 1-min load <= MAX_LOAD)
# Only 127.0.0.1 is targeted; every loop is bounded; everything started here is killed on exit.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
MOCKIDP_BIN=${MOCKIDP_BIN:-target/release/mockidp}
PORT=${PORT:-18180}; DUR=${DUR:-10}; WARM_S=${WARM_S:-3}; CONC=${CONC:-16}; THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}; STARTS=${STARTS:-10}; IDLE_S=${IDLE_S:-2}; OSSL_S=${OSSL_S:-5}; PEERS=${PEERS:-1}
PEER_SYSTEMS=${PEER_SYSTEMS:-oms panva mockidp}; PEERS_DIR=${PEERS_DIR:-/tmp/peers}; FLOOR=${FLOOR:-1}
MAX_LOAD=${MAX_LOAD:-1.0}; LOAD_WAIT=${LOAD_WAIT:-300}
INSTALL=0
for a in "$@"; do case $a in --install) INSTALL=1;; --no-peers) PEERS=0;; *) echo "unknown arg $a" >&2; exit 2;; esac; done
REALM=iopole; CID=clientId; CSECRET=clientSecret
TOKEN_PATH=/realms/$REALM/protocol/openid-connect/token
DISC=/realms/$REALM/.well-known/openid-configuration
BODY="grant_type=client_credentials&client_id=$CID&client_secret=$CSECRET"
PEERS_SH=../shared/bench/run-peers.sh
LOG=$(mktemp -d /tmp/mockidp-bench.XXXX)
SRV=""
FLR=""
cleanup() { [ -n "$SRV" ] && { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }; SRV=""
            [ -n "$FLR" ] && { kill "$FLR" 2>/dev/null; wait "$FLR" 2>/dev/null; }; FLR=""; }
trap cleanup EXIT; trap 'exit 130' INT TERM
say() { echo "# $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
LOADS=""; mark() { LOADS="$LOADS $1 $(load1);"; }   # 1-min load at each phase, for the report
vmrss_mb() { awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo NA; }
cpu_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $9, $8}' /proc/stat; }   # busy, steal, softirq ticks
pid_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }                    # utime+stime ticks
calc() { awk "BEGIN{printf \"$1\", $2}"; }   # calc FORMAT EXPR

# --- binary --------------------------------------------------------------------------------------
if [ ! -x "$MOCKIDP_BIN" ]; then
  say "building $MOCKIDP_BIN (cargo build --release)"; cargo build --release >&2 || exit 1
fi
MOCKIDP_BIN=$(realpath "$MOCKIDP_BIN")
FLOOR_BIN=target/bench-floor/release/mockidp-bench-floor
if [ "$FLOOR" = 1 ] && [ ! -x "$FLOOR_BIN" ]; then
  say "building $FLOOR_BIN (bench/floor)"
  AWS_LC_SYS_NO_JITTER_ENTROPY=1 CARGO_TARGET_DIR=target/bench-floor \
    cargo build --release --manifest-path bench/floor/Cargo.toml >&2 || FLOOR=0
fi

# --- wait for a quiet machine (bounded) ------------------------------------------------------------
for ((w = 0; w < LOAD_WAIT; w += 10)); do
  awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN{exit !(l <= m)}' && break
  say "load $(load1) > $MAX_LOAD, waiting ($w/$LOAD_WAIT s)"; sleep 10
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average before: $LOAD_BEFORE"

# --- 1. openssl ceiling ----------------------------------------------------------------------------
ossl() { openssl speed "$@" -seconds "$OSSL_S" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/{v=$(NF-1)} END{print v}'; }
say "openssl speed rsa2048, 1 process, ${OSSL_S}s (-multi 2 is measured next to each wrk round)"
mark openssl; OSSL1=$(ossl)

# --- 3. cold start (before the long-running server, own ports PORT+1..PORT+STARTS) -----------------
say "cold start x$STARTS"; mark start
python3 bench/startup.py "$MOCKIDP_BIN" $((PORT + 1)) "$STARTS" "$REALM" | tee "$LOG/startup.txt" >&2
START_MS=$(sed -n 's/^median_ms=\([^ ]*\).*/\1/p' "$LOG/startup.txt")
START_RANGE=$(sed -n 's/^median_ms=[^ ]* min_ms=\([^ ]*\) max_ms=\([^ ]*\) ok=\(.*\)/\1–\2 ms, ok \3/p' "$LOG/startup.txt")

# --- 2 + 4. server, idle RSS, wrk ------------------------------------------------------------------
base=http://127.0.0.1:$PORT
"$MOCKIDP_BIN" serve --port "$PORT" >"$LOG/server.log" 2>&1 & SRV=$!
for i in $(seq 500); do curl -sf -o /dev/null "$base$DISC" && break; sleep 0.01; done
curl -sf -o /dev/null "$base$DISC" || { say "mockidp did not come up:"; cat "$LOG/server.log" >&2; exit 1; }
sleep "$IDLE_S"; RSS_IDLE=$(vmrss_mb $SRV)
sample=$(curl -s -X POST -H 'Content-Type: application/x-www-form-urlencoded' -d "$BODY" -w '\n%{http_code}' "$base$TOKEN_PATH")
ALG=$(head -n1 <<<"$sample" | python3 -c 'import sys,json,base64
t=json.load(sys.stdin)["access_token"].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(t+"=="))["alg"])' 2>/dev/null || echo "?")
say "sample token request: HTTP $(tail -n1 <<<"$sample"), alg=$ALG"
cat >"$LOG/cc.lua" <<EOF
wrk.method = "POST"
wrk.body = "$BODY"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
EOF
say "wrk warm-up ${WARM_S}s, then $ROUNDS rounds of (openssl -multi 2, wrk -t$THREADS -c$CONC -d${DUR}s)"
wrk -t"$THREADS" -c"$CONC" -d"${WARM_S}s" -s "$LOG/cc.lua" "$base$TOKEN_PATH" >/dev/null 2>&1
floor_url=http://127.0.0.1:$((PORT + 50))$TOKEN_PATH
if [ "$FLOOR" = 1 ]; then
  "$FLOOR_BIN" fixtures/keys/signing.pem $((PORT + 50)) >"$LOG/floor.log" 2>&1 & FLR=$!
  sleep 0.3; wrk -t"$THREADS" -c"$CONC" -d"${WARM_S}s" -s "$LOG/cc.lua" "$floor_url" >/dev/null 2>&1 || FLOOR=0
fi
mark wrk; HZ=$(getconf CLK_TCK); TIMEFORMAT='%3U %3S'; NON2XX=0; SOCKERR=""; ROUND_ROWS=""
# The host's speed drifts by ±10% within a minute (shared VM), so each wrk round is paired with an
# openssl -multi 2 run just before it, and the round with the median ratio is reported.
for ((r = 1; r <= ROUNDS; r++)); do
  O2=$(ossl -multi 2)
  read -r B0 ST0 SI0 < <(cpu_busy); P0=$(pid_ticks $SRV); T0=$(date +%s%N)
  { time wrk -t"$THREADS" -c"$CONC" -d"${DUR}s" --timeout 10s --latency -s "$LOG/cc.lua" "$base$TOKEN_PATH" >"$LOG/wrk$r.txt" 2>&1; } 2>"$LOG/wrk$r.time"
  read -r B1 ST1 SI1 < <(cpu_busy); P1=$(pid_ticks $SRV); T1=$(date +%s%N)
  # CPU split of the 2 cores during the run: server, wrk, rest (other processes + softirq + steal)
  read -r U S <"$LOG/wrk$r.time"
  CPU=$(awk -v e=$(( (T1 - T0) / 1000000 )) -v hz="$HZ" -v srv=$((P1 - P0)) -v busy=$((B1 - B0)) \
    -v st=$((ST1 - ST0)) -v si=$((SI1 - SI0)) -v u="$U" -v sy="$S" \
    'BEGIN{ e /= 1000; s = srv/hz/e; k = (u + sy)/e; printf "%.2f %.2f %.2f %.2f %.2f", s, k, busy/hz/e - s - k, st/hz/e, si/hz/e }')
  sed 's/^/#   /' "$LOG/wrk$r.txt" >&2
  R=$(awk '/^Requests\/sec/{print $2}' "$LOG/wrk$r.txt")
  N=$(awk '/Non-2xx/{print $NF}' "$LOG/wrk$r.txt"); NON2XX=$((NON2XX + ${N:-0}))
  SOCKERR="$SOCKERR$(grep -o 'Socket errors.*' "$LOG/wrk$r.txt" || true)"
  PCT_R=$(calc '%.1f' "${R:-0} * 100 / ${O2:-1}")
  F=NA; PCT_F=NA
  if [ "$FLOOR" = 1 ]; then
    F=$(wrk -t"$THREADS" -c"$CONC" -d"${DUR}s" -s "$LOG/cc.lua" "$floor_url" 2>&1 | tee "$LOG/floor$r.txt" | awk '/^Requests\/sec/{print $2}')
    F=${F:-NA}
    [ "$F" != NA ] && PCT_F=$(calc '%.1f' "$F * 100 / ${O2:-1}")
  fi
  say "round $r: openssl -multi 2 $O2 sign/s, mockidp $R tokens/s = $PCT_R%, floor $F = $PCT_F%"
  ROUND_ROWS="$ROUND_ROWS| $r | $O2 | $R | $PCT_R% | $F | $PCT_F% |"$'\n'
  echo "$PCT_R $r $O2 $R $CPU $F" >>"$LOG/rounds.txt"
done
# The median round (by ratio) gives the headline numbers.
read -r _ MID OSSL2 RPS C_SRV C_WRK C_REST C_STEAL C_SIRQ FLOOR_RPS < <(sort -n "$LOG/rounds.txt" | sed -n "$(( (ROUNDS + 1) / 2 ))p")
# The floor's own median ratio, over the same rounds.
FLOOR_PCT=$(awk '$10 != "NA" {print $10 * 100 / $3}' "$LOG/rounds.txt" | sort -n | awk '{v[NR]=$1} END{if (NR) printf "%.0f", v[int((NR+1)/2)]; else print "NA"}')
P50=$(awk '$1=="50%"{print $2}' "$LOG/wrk$MID.txt"); P99=$(awk '$1=="99%"{print $2}' "$LOG/wrk$MID.txt")
RSS_LOAD=$(vmrss_mb $SRV)
kill -0 $SRV 2>/dev/null || say "WARNING: mockidp died during the load run"
cleanup
grep -iE 'error|panic|warn' "$LOG/server.log" | head -5 | sed 's/^/# server log: /' >&2

# --- 5. peers --------------------------------------------------------------------------------------
PEER_OUT=""
if [ "$PEERS" = 1 ] && [ -x "$PEERS_SH" ]; then
  if [ "$INSTALL" = 1 ] || [ ! -d "$PEERS_DIR/node/node_modules/oauth2-mock-server" ] ||
     [ ! -d "$PEERS_DIR/node/node_modules/oidc-provider" ]; then
    say "installing peers into $PEERS_DIR"
    PEERS_DIR=$PEERS_DIR "$PEERS_SH" install >"$LOG/peers-install.log" 2>&1 || say "peer install FAILED (see $LOG/peers-install.log)"
  fi
  say "peers: $PEER_SYSTEMS (log $LOG/peers.log)"
  PEER_OUT=$LOG/peers.md; mark peers
  # shellcheck disable=SC2086
  PEERS_DIR=$PEERS_DIR OUT=$PEER_OUT RESULTS=$LOG BASE_PORT=$((PORT + 100)) DUR=$DUR CONC=$CONC THREADS=$THREADS \
    WARM_S=$WARM_S MOCKIDP_BIN=$MOCKIDP_BIN MOCKIDP_CLIENT_ID=$CID MOCKIDP_CLIENT_SECRET=$CSECRET \
    "$PEERS_SH" $PEER_SYSTEMS >"$LOG/peers.log" 2>&1 || say "run-peers.sh exited non-zero"
elif [ "$PEERS" = 1 ]; then say "no $PEERS_SH, skipping peers"; fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ----------------------------------------------------------------------------------------
below() { awk -v v="$1" -v t="$2" 'BEGIN{ if (v !~ /^[0-9.]+$/) print "?"; else print (v + 0 < t + 0) ? "ok" : "**MISS**" }'; }
PCT=$(calc '%.1f' "${RPS:-0} * 100 / ${OSSL2:-1}")   # one decimal: 79.8 is not rounded up to a pass
{
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u '+%Y-%m-%d %H:%M UTC'); load avg before: $LOAD_BEFORE, after: $LOAD_AFTER"
echo "1-min load at phase start:$LOADS"
awk -v a="$OSSL1" -v b="$OSSL2" 'BEGIN{ if (b < 1.6 * a) print "**WARNING: openssl -multi 2 is < 1.6x one process: the second core was busy (other load), numbers are not clean**" }'
awk -v r="$C_REST" -v si="$C_SIRQ" 'BEGIN{ if (r - si > 0.2) printf "**WARNING: other processes used %.2f cores during the wrk run: tokens/s is not clean**\n", r - si }'
echo "mockidp: $MOCKIDP_BIN (built $(date -u -r "$MOCKIDP_BIN" '+%Y-%m-%d %H:%M UTC'); repo HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')), token alg $ALG"
echo
echo "| metric | value | reference / target | ratio / verdict |"
echo "|---|---|---|---|"
echo "| openssl RSA-2048 sign/s, 1 process | $OSSL1 | | |"
echo "| openssl RSA-2048 sign/s, -multi 2 (just before that round) | $OSSL2 | RS256 ceiling | $(calc '%.2f' "$OSSL2 / $OSSL1")× 1 process |"
echo "| mockidp tokens/s (wrk -t$THREADS -c$CONC, ${DUR}s; median of $ROUNDS rounds by ratio) | $RPS | ≥ 80% of openssl -multi 2 | $PCT% $(awk -v p="$PCT" 'BEGIN{ print (p >= 80) ? "ok" : "**MISS**" }') |"
echo "| CPU during the run (cores, of $(nproc)) | server $C_SRV, wrk $C_WRK, rest $C_REST (softirq $C_SIRQ, steal $C_STEAL; the remainder is other processes) | | |"
[ "$FLOOR" = 1 ] && [ -n "$FLOOR_RPS" ] && [ "$FLOOR_RPS" != NA ] && echo "| floor tokens/s: bench/floor (read, sign, answer; nothing else), same round | $FLOOR_RPS | what any server reaches here | $(calc '%.0f' "$FLOOR_RPS * 100 / $OSSL2")% of openssl (median of rounds $FLOOR_PCT%); mockidp = $(calc '%.0f' "$RPS * 100 / $FLOOR_RPS")% of the floor |"
echo "| tokens per server CPU-second | $(calc '%.0f' "$RPS / $C_SRV") | openssl 1-process sign/s | $(calc '%.0f' "$RPS / $C_SRV * 100 / $OSSL1")% |"
echo "| latency p50 / p99 | $P50 / $P99 | | |"
echo "| non-2xx responses | $NON2XX ${SOCKERR} | 0 | $( [ "$NON2XX" = 0 ] && [ -z "$SOCKERR" ] && echo ok || echo '**FLAG**') |"
echo "| cold start to first 200, median of $STARTS | ${START_MS} ms ($START_RANGE) | < 20 ms | $(below "$START_MS" 20) |"
echo "| idle VmRSS (after ${IDLE_S}s) | $RSS_IDLE MB | < 15 MB | $(below "$RSS_IDLE" 15) |"
echo "| VmRSS after load run | $RSS_LOAD MB | | |"
echo; echo "Throughput rounds (openssl -multi 2 just before each wrk run):"; echo
echo "| round | openssl -multi 2 sign/s | mockidp tokens/s | ratio | floor tokens/s | floor ratio |"; echo "|---|---|---|---|---|---|"
printf '%s' "$ROUND_ROWS"
if [ -n "$PEER_OUT" ] && [ -s "$PEER_OUT" ]; then
  echo; echo "Peers (../shared/bench/run-peers.sh; its start times are curl-polled, ~10 ms resolution; RSS = process tree):"; echo
  cat "$PEER_OUT"
  echo; echo "| system | tokens/s | mockidp ÷ system (tokens/s) | start ms | system ÷ mockidp (start) | idle RSS MB | system ÷ mockidp (RSS) |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'|' 'NR>2{ for(i=2;i<=NF;i++) gsub(/^ +| +$/,"",$i); n++; s[n]=$2; st[n]=$3; r[n]=$5; t[n]=$6
                   if ($2 ~ /^mockidp/) { ms=$3; mr=$5; mt=$6 } }
       function q(a,b){ return (a+0>0 && b+0>0) ? sprintf("%.1f×", a/b) : "–" }
       END{ for(i=1;i<=n;i++) printf "| %s | %s | %s | %s | %s | %s | %s |\n", s[i], t[i], q(mt,t[i]), st[i], q(st[i],ms), r[i], q(r[i],mr) }' "$PEER_OUT"
fi
echo; echo "Logs: $LOG"
} | tee "$LOG/results.md"
