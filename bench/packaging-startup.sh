#!/usr/bin/env bash
# Before-start time of each way to run mockidp, median of RUNS (default 10):
#   container:  `docker run` -> health status `healthy` (the HEALTHCHECK runs every 1 s), and
#               `docker run` -> first 200 on the Iopole discovery URL
#   pytest:     MockIdp.start() -> returns (what the mockidp fixture's setup waits for: the
#               process is ready and every issuer's discovery has been read)
#   node:       startMockIdp() -> first 200 from the Iopole token endpoint
#   binary:     exec -> first 200 (bench/startup.py), the floor under all of them
# Needs what the packaging tests leave: the image `mockidp` (packaging/test-docker.sh), the venv
# target/ci/python-wheel-test-venv (test-python.sh), target/ci/npm-consumer (test-npm.sh).
# Port 8180 must be free (the container's). Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
DISC=http://127.0.0.1:8180/realms/iopole/.well-known/openid-configuration

healthy=(); answered=()
for _ in $(seq 1 "$RUNS"); do
    t0=$(ms)
    id=$(docker run -d --rm --network host mockidp)
    until curl -sf -o /dev/null "$DISC"; do sleep 0.005; done
    answered+=($(( $(ms) - t0 )))
    until [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ]; do sleep 0.02; done
    healthy+=($(( $(ms) - t0 )))
    docker stop "$id" >/dev/null
done

pytest_ms=$(target/ci/python-wheel-test-venv/bin/python - "$RUNS" <<'PY'
import statistics, sys, time
from mockidp import MockIdp
times = []
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    idp = MockIdp.start()
    times.append((time.perf_counter() - t0) * 1000)
    idp.stop()
print(round(statistics.median(times)))
PY
)

node_ms=$(cd target/ci/npm-consumer && node --input-type=module - "$RUNS" <<'JS'
import { startMockIdp } from 'mockidp';
const times = [];
for (let i = 0; i < Number(process.argv[2]); i++) {
  const t0 = performance.now();
  const idp = await startMockIdp();
  const resp = await fetch(`${idp.issuerUrl('iopole')}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'clientId', client_secret: 'clientSecret' }),
  });
  if (resp.status !== 200) throw new Error(`token: HTTP ${resp.status}`);
  times.push(performance.now() - t0);
  await idp.stop();
}
times.sort((a, b) => a - b);
const n = times.length;
console.log(Math.round(n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2));
JS
)

binary_ms=$(python3 bench/startup.py target/static/mockidp 28180 "$RUNS" | sed -n 's/^median_ms=\([0-9.]*\).*/\1/p')

echo "| way | measured | median of $RUNS |"
echo "|---|---|---|"
echo "| container | \`docker run\` → first 200 (discovery) | $(printf '%s\n' "${answered[@]}" | median) ms |"
echo "| container | \`docker run\` → \`healthy\` | $(printf '%s\n' "${healthy[@]}" | median) ms |"
echo "| pytest | \`mockidp\` fixture setup (\`MockIdp.start()\`) | $pytest_ms ms |"
echo "| node | \`startMockIdp()\` → first token (200) | $node_ms ms |"
echo "| binary | exec → first 200 (bench/startup.py) | $binary_ms ms |"
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
