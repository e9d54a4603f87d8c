# shellcheck shell=bash
# Shared by the ops/docker fault scripts: container names, the network, the
# Node.js helper. They use the docker CLI directly (each docker-compose v1
# command costs ~1.5 s to start).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NETWORK=${PAXLOG_DOCKER_NETWORK:-paxlog}

say() { echo "[$(basename "$0" .sh)] $*"; }

# replica ID: the container name of replica ID, after checking that it exists.
replica() {
  local id=$1
  if ! [[ $id =~ ^[1-9]$ ]]; then
    say "not a replica id: $id (1..9)" >&2
    exit 2
  fi
  if ! docker inspect "paxlog-$id" >/dev/null 2>&1; then
    say "no container paxlog-$id (start the cluster: docker-compose up -d)" >&2
    exit 1
  fi
  echo "paxlog-$id"
}

# all_replicas: the names of every replica container, running or not, by id.
all_replicas() {
  docker ps -a --format '{{.Names}}' | grep -E '^paxlog-[0-9]+$' | sort -t- -k2 -n || true
}

connected() {
  [ -n "$(docker inspect -f "{{if index .NetworkSettings.Networks \"$NETWORK\"}}yes{{end}}" "$1")" ]
}

# tool COMMAND...: the Node.js helper (ops/docker/compose-tool.ts), built if missing.
tool() {
  if [ ! -f "$ROOT/dist/ops/docker/compose-tool.js" ]; then
    (cd "$ROOT" && npx tsc -p tsconfig.json)
  fi
  node "$ROOT/dist/ops/docker/compose-tool.js" "$@"
}

usage_if_none() {
  if [ "$1" -eq 0 ]; then
    echo "usage: $(basename "$0") $2" >&2
    exit 2
  fi
}
