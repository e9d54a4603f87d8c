#!/usr/bin/env bash
# The README's "main job": a local 5-replica cluster with its own etcd on
# loopback (REST on 8081..8085). Extra arguments go to "paxlog cluster up".
set -euo pipefail
cd "$(dirname "$0")/../.."
bash ops/scripts/ensure-deps.sh
npx tsc -p tsconfig.json
exec node dist/ops/cli.js cluster up "$@"
