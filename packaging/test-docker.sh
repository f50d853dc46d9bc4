#!/usr/bin/env bash
# The container image and docker-compose.yml, for real: builds the image from the static binary,
# runs it (host network: CI's containers may only reach loopback), waits for `healthy`, gets an
# Iopole token from it, runs it on a mounted fixture directory, checks that `docker stop` ends it
# within a second; then the same through docker-compose. Run by tests/it/packaging.rs.
#   usage: packaging/test-docker.sh        env: MOCKIDP_TEST_PORT (default 8180, else a free one)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "test-docker: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

packaging/build-static.sh >/dev/null
IMAGE=mockidp:test-$$
NAME=mockidp-test-$$
PROJECT=mockidp-test-$$
COMPOSE=(-p "$PROJECT" -f docker-compose.yml -f packaging/compose.host-network.yml)
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
MOUNTED=$(mktemp -d)
cleanup() {
    docker rm -f "$NAME" "$NAME-mounted" >/dev/null 2>&1 || true
    "${compose[@]}" "${COMPOSE[@]}" down --remove-orphans >/dev/null 2>&1 || true
    docker rmi "$IMAGE" >/dev/null 2>&1 || true
    rm -rf "$MOUNTED"
}
trap cleanup EXIT

# The image's port, unless a server of another engineer or test already has it.
PORT=${MOCKIDP_TEST_PORT:-8180}
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    say "8180 is taken here: using port $PORT"
fi
export MOCKIDP_TEST_PORT=$PORT
PORT_ENV=()
[ "$PORT" = 8180 ] || PORT_ENV=(-e "MOCKIDP_PORT=$PORT" -e "MOCKIDP_URL=http://127.0.0.1:$PORT")
BASE=http://127.0.0.1:$PORT

# Waits until container $1 is healthy; prints the milliseconds since $2.
wait_healthy() {
    local state
    for _ in $(seq 1 300); do
        state=$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null || echo gone)
        case $state in
            healthy) echo $(( $(ms) - $2 )); return 0 ;;
            unhealthy | gone) break ;;
        esac
        sleep 0.05
    done
    docker logs "$1" >&2 || true
    fail "$1 is $state, not healthy"
}

# An Iopole client-credentials token at $1 (Iopole's documented double-slash path); prints it.
iopole_token() {
    local body
    body=$(curl -sS --max-time 5 -X POST "$1//realms/iopole/protocol/openid-connect/token" \
        -H 'Content-type: application/x-www-form-urlencoded' \
        -d grant_type=client_credentials -d client_id=clientId -d client_secret=clientSecret)
    python3 -c 'import json,sys; t=json.loads(sys.argv[1]); assert t["token_type"]=="Bearer", t; print(t["access_token"])' "$body" \
        || fail "no Iopole token at $1: $body"
}

# Stops container $1 (docker stop: SIGTERM, SIGKILL after 10 s) and fails unless it took < 1 s.
stop_within_a_second() {
    local t0 took
    t0=$(ms)
    docker stop "$1" >/dev/null
    took=$(( $(ms) - t0 ))
    [ "$(docker inspect -f '{{.State.ExitCode}}' "$1")" = 0 ] || fail "$1 did not exit cleanly"
    [ "$took" -lt 1000 ] || fail "docker stop $1 took $took ms"
    echo "$took"
}

# --- the image ---------------------------------------------------------------------------------
docker build -q -t "$IMAGE" . >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
[ "$size" -lt $((15 * 1024 * 1024)) ] || fail "image is $size bytes (limit 15 MiB)"
[ "$(docker image inspect -f '{{.Config.User}}' "$IMAGE")" = 65532:65532 ] || fail "image user"
say "image $IMAGE: $((size / 1024)) KiB"

# --- docker run on the baked-in fixtures -------------------------------------------------------
t0=$(ms)
docker run -d --name "$NAME" --network host "${PORT_ENV[@]}" "$IMAGE" >/dev/null
healthy_ms=$(wait_healthy "$NAME" "$t0")
pid=$(docker inspect -f '{{.State.Pid}}' "$NAME")
uid=$(awk '/^Uid:/{print $2}' "/proc/$pid/status")
[ "$uid" = 65532 ] || fail "the server runs as uid $uid"
token=$(iopole_token "$BASE")
iss=$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"=="))["iss"])' "$token")
[ "$iss" = "$BASE/realms/iopole" ] || fail "iss $iss"
docker logs "$NAME" 2>&1 | grep -q 'listening on http://127.0.0.1' || fail "no banner in the logs"
stop_ms=$(stop_within_a_second "$NAME")
say "docker run: healthy after $healthy_ms ms, Iopole token ok (uid $uid), stopped in $stop_ms ms"

# --- docker run on a mounted fixture directory -------------------------------------------------
cat > "$MOUNTED/default.toml" <<'EOF'
[[issuer]]
name = "iopole"
dialect = "keycloak"

[[issuer.client]]
id = "clientId"
secret = "clientSecret"
grants = ["client_credentials"]
claims = { from = "mounted-fixtures" }
EOF
chmod -R a+rX "$MOUNTED"
t0=$(ms)
docker run -d --name "$NAME-mounted" --network host "${PORT_ENV[@]}" \
    -v "$MOUNTED:/fixtures:ro" "$IMAGE" >/dev/null
mounted_ms=$(wait_healthy "$NAME-mounted" "$t0")
token=$(iopole_token "$BASE")
python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; c=json.loads(base64.urlsafe_b64decode(p+"==")); assert c["from"]=="mounted-fixtures", c' "$token" \
    || fail "the token does not come from the mounted fixtures"
stop_ms=$(stop_within_a_second "$NAME-mounted")
say "mounted fixtures: healthy after $mounted_ms ms, token carries their claim, stopped in $stop_ms ms"

# --- docker-compose.yml ------------------------------------------------------------------------
# The compose file builds image mockidp:latest from the same context: a cache hit by now.
t0=$(ms)
"${compose[@]}" "${COMPOSE[@]}" up -d --build >/dev/null 2>&1 || { "${compose[@]}" "${COMPOSE[@]}" up -d --build; fail "compose up"; }
service=$("${compose[@]}" "${COMPOSE[@]}" ps -q mockidp)
compose_ms=$(wait_healthy "$service" "$t0")
iopole_token "$BASE" >/dev/null
# docker-compose.yml sets an admin token: the admin API refuses calls without it.
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/_mockidp/reset" -H 'Content-Type: application/json' -d '{}')
[ "$status" = 401 ] || fail "admin API without the compose file's token: HTTP $status"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/_mockidp/reset" -H 'Content-Type: application/json' \
    -H 'Authorization: Bearer change-me' -d '{}')
[ "$status" = 200 ] || fail "admin API with the compose file's token: HTTP $status"
stop_ms=$(stop_within_a_second "$service")
say "docker-compose (${compose[*]}): healthy after $compose_ms ms (build included), token ok, stopped in $stop_ms ms"
echo "docker: ok"
