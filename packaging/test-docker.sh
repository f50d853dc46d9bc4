#!/usr/bin/env bash
# The container image and docker-compose.yml, for real: builds the image from the static binary,
# runs it (host network: CI's containers may only reach loopback), waits for `healthy`, gets an
# Iopole token from it, runs it on a mounted fixture directory, checks that `docker stop` ends it
# within a second; then the same through docker-compose. Run by tests/it/packaging.rs.
# The README's container commands are run here verbatim (tests/it/packaging.rs checks that).
#   usage: packaging/test-docker.sh        (port 8180 must be free: it is the image's)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "test-docker: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

IMAGE=mockidp
PROJECT=mockidp-test-$$
COMPOSE=(-p "$PROJECT" -f docker-compose.yml -f packaging/compose.host-network.yml)
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
MOUNTED=$(mktemp -d)
cleanup() {
    docker rm -f $(docker ps -aq --filter ancestor=mockidp) >/dev/null 2>&1 || true
    "${compose[@]}" "${COMPOSE[@]}" down --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$MOUNTED"
}
trap cleanup EXIT

PORT=8180
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    fail "port $PORT (the image's) is in use here: stop what listens there"
fi
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

# Stops container $1 (docker stop: SIGTERM, SIGKILL after 10 s) and fails unless the server
# ended on the SIGTERM: well under docker's 10 s SIGKILL deadline. Not a speed test: the bound is
# 5 s so that a busy machine (docker stop took 1.7 s once while 4 builds ran) does not fail it.
stop_on_sigterm() {
    local t0 took
    t0=$(ms)
    docker stop "$1" >/dev/null
    took=$(( $(ms) - t0 ))
    [ "$took" -lt 5000 ] || fail "docker stop $1 took $took ms: SIGTERM ignored?"
    echo "$took"
}
exited_cleanly() {
    [ "$(docker inspect -f '{{.State.ExitCode}}' "$1")" = 0 ] || fail "$1 did not exit with 0 on SIGTERM"
}

# --- the image ---------------------------------------------------------------------------------
packaging/build-static.sh
docker build -t mockidp . >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
[ "$size" -lt $((15 * 1024 * 1024)) ] || fail "image is $size bytes (limit 15 MiB)"
[ "$(docker image inspect -f '{{.Config.User}}' "$IMAGE")" = 65532:65532 ] || fail "image user"
say "image $IMAGE: $((size / 1024)) KiB"

# --- docker run on the baked-in fixtures -------------------------------------------------------
t0=$(ms)
docker run --rm --network host mockidp >/dev/null 2>&1 &
RUN=$!
for _ in $(seq 1 100); do NAME=$(docker ps -q --filter ancestor=mockidp); [ -n "$NAME" ] && break; sleep 0.05; done
[ -n "$NAME" ] || fail "docker run started no container"
healthy_ms=$(wait_healthy "$NAME" "$t0")
pid=$(docker inspect -f '{{.State.Pid}}' "$NAME")
uid=$(awk '/^Uid:/{print $2}' "/proc/$pid/status")
[ "$uid" = 65532 ] || fail "the server runs as uid $uid"
token=$(iopole_token "$BASE")
iss=$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"=="))["iss"])' "$token")
[ "$iss" = "$BASE/realms/iopole" ] || fail "iss $iss"
# The banner is printed once the port is bound, and docker's log pipe may deliver it after the
# first answers on a loaded host: wait for it (up to 5 s) rather than read the logs once.
banner=""
for _ in $(seq 1 100); do
    docker logs "$NAME" 2>&1 | grep -q 'listening on http://127.0.0.1' && { banner=yes; break; }
    sleep 0.05
done
[ -n "$banner" ] || fail "no banner in the logs"
# A host name, not an address: getaddrinfo in the static glibc binary, on scratch (glibc >= 2.34
# has its `files` module built in; it reads the /etc/hosts Docker writes).
docker exec "$NAME" /usr/local/bin/mockidp health --url "http://localhost:$PORT" \
    || fail "mockidp health cannot resolve localhost in the container"
stop_ms=$(stop_on_sigterm "$NAME")
wait "$RUN" || fail "docker run exited with $? on SIGTERM"
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
NAME=$(docker run -d --network host -v "$MOUNTED:/fixtures:ro" mockidp)
mounted_ms=$(wait_healthy "$NAME" "$t0")
token=$(iopole_token "$BASE")
python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; c=json.loads(base64.urlsafe_b64decode(p+"==")); assert c["from"]=="mounted-fixtures", c' "$token" \
    || fail "the token does not come from the mounted fixtures"
stop_ms=$(stop_on_sigterm "$NAME")
exited_cleanly "$NAME"
docker rm "$NAME" >/dev/null
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
stop_ms=$(stop_on_sigterm "$service")
exited_cleanly "$service"
say "docker-compose (${compose[*]}): healthy after $compose_ms ms (build included), token ok, stopped in $stop_ms ms"
echo "docker: ok"
