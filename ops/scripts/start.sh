#!/usr/bin/env bash
# The README's "main job": until the replica process lands (issue 4), this runs
# the deterministic simulator of the whole cluster on a few hundred seeds.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash ops/scripts/ensure-deps.sh
npx tsc -p tsconfig.json
exec node dist/ops/cli.js sim --seeds 300 "$@"
