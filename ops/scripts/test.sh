#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: install what is missing,
# typecheck and build, lint, then every ava test (unit, simulation, integration).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash ops/scripts/ensure-deps.sh
rm -rf dist
npx tsc -p tsconfig.json
npx biome check .
npx ava "$@"
