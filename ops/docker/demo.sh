#!/usr/bin/env bash
# demo.sh [--down]: a scripted demo on the compose cluster that a person can
# watch (about a minute): writes flow, the leader is crashed and another takes
# over, the old leader recovers and catches up, a minority of followers is
# partitioned and healed, and every replica's state is compared at the end.
# Brings the cluster up first (images: npm run docker:build) and mends what an
# earlier run left broken; leaves it running unless --down is given.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
compose=(docker-compose)
command -v docker-compose >/dev/null 2>&1 || compose=(docker compose)

# a clean start: nothing paused or cut off, every service up
for c in $(all_replicas); do
  if [ "$(docker inspect -f '{{.State.Status}}' "$c")" = paused ]; then docker unpause "$c" >/dev/null; fi
done
bash "$ROOT/ops/docker/heal.sh" >/dev/null
start=$(date +%s%N)
"${compose[@]}" up -d 2>&1 | grep -v '^$' | sed 's/^/[demo] /'
tool wait-healthy 60 | sed 's/^/[demo] /'
say "cluster up and healthy in $(((($(date +%s%N) - start) / 1000000))) ms"
[ -f "$ROOT/dist/ops/docker/demo.js" ] || npx tsc -p tsconfig.json
status=0
timeout 300 node "$ROOT/dist/ops/docker/demo.js" || status=$?
if [ "${1:-}" = --down ]; then
  "${compose[@]}" down -v 2>&1 | sed 's/^/[demo] /'
else
  say "the cluster keeps running: ops/docker/status.sh; docker-compose down -v stops it"
fi
exit $status
