#!/usr/bin/env bash
# Builds every image the compose cluster needs, from what is on this machine
# when no image registry is reachable, and does nothing that is already done:
#   1. installs docker.io, docker-compose (and mmdebstrap when a base image must
#      be made) with apt-get when missing (root only);
#   2. starts dockerd when no daemon answers, and waits until it does;
#   3. debian:bookworm-slim: kept if present, else pulled, else made locally
#      with mmdebstrap (minbase, merged /usr) piped into `docker import`;
#   4. node:20-bookworm-slim: kept if present, else pulled, else made from
#      debian:bookworm-slim plus this machine's Node.js (ops/docker/node.Dockerfile);
#   5. builds the app on the host (tsc), stages dist/, proto/ and production
#      node_modules under dist/docker/, and builds paxlog-replica:latest
#      (./Dockerfile) and paxlog-etcd:latest (ops/docker/etcd.Dockerfile).
# Prints each step and how long it took. Usage: ops/docker/build-images.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export DOCKER_BUILDKIT=0 # the legacy builder: no buildx plugin exists in Debian bookworm

DEBIAN_IMAGE=${PAXLOG_DEBIAN_IMAGE:-debian:bookworm-slim}
NODE_IMAGE=${PAXLOG_NODE_IMAGE:-node:20-bookworm-slim}
DEBIAN_MIRROR=${PAXLOG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOCKERD_LOG=${PAXLOG_DOCKERD_LOG:-/var/log/paxlog-dockerd.log}

T0=$(date +%s.%N)
log() { echo "[docker:build] $*"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# step NAME COMMAND...: runs COMMAND and prints how long it took.
step() {
  local name=$1 start
  shift
  start=$(date +%s.%N)
  log "$name ..."
  "$@"
  log "$name: done in $(elapsed "$start") s"
}
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
# quietly COMMAND...: runs COMMAND with its output kept aside, shown only if it fails.
quietly() {
  local out status=0
  out=$(mktemp)
  "$@" >"$out" 2>&1 || status=$?
  if [ $status -ne 0 ]; then
    tail -n 40 "$out"
    log "failed ($status): $*"
  fi
  rm -f "$out"
  return $status
}
try_pull() {
  local start
  start=$(date +%s.%N)
  if timeout 60 docker pull -q "$1" >/dev/null 2>&1; then return 0; fi
  log "cannot pull $1 (no registry reachable?), tried for $(elapsed "$start") s"
  return 1
}

# 1. Debian packages --------------------------------------------------------
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: $*; install them (Debian: apt-get install $*) or run this as root"
    exit 1
  fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive quietly apt-get install -y -qq --no-install-recommends "$@"
}
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}" apt_install "${need[@]}"
else
  log "docker.io and docker-compose already installed"
fi

# 2. the daemon ---------------------------------------------------------------
start_dockerd() {
  setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  local deadline=$((SECONDS + 60))
  until docker info >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "dockerd did not answer within 60 s; its log ($DOCKERD_LOG):"
      tail -n 30 "$DOCKERD_LOG" || true
      exit 1
    fi
    sleep 0.2
  done
}
if docker info >/dev/null 2>&1; then
  log "a Docker daemon already answers"
else
  step "starting dockerd (log: $DOCKERD_LOG)" start_dockerd
fi

# 3. debian:bookworm-slim -------------------------------------------------------
make_debian() {
  command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
  local errors status=0
  errors=$(mktemp)
  mmdebstrap --quiet --variant=minbase --mode=root \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm - "$DEBIAN_MIRROR" 2>"$errors" |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      - "$DEBIAN_IMAGE" >/dev/null || status=$?
  [ $status -eq 0 ] || tail -n 40 "$errors"
  rm -f "$errors"
  return $status
}
if have_image "$DEBIAN_IMAGE"; then
  log "$DEBIAN_IMAGE present"
elif try_pull "$DEBIAN_IMAGE"; then
  log "$DEBIAN_IMAGE pulled"
else
  step "making $DEBIAN_IMAGE locally (mmdebstrap minbase | docker import)" make_debian
fi

# 4. node:20-bookworm-slim --------------------------------------------------------
make_node() {
  local ctx node npm_dir
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" RETURN
  node=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  log "  adding $node ($("$node" --version)) and $npm_dir"
  cp "$node" "$ctx/node"
  cp -a "$npm_dir" "$ctx/npm"
  quietly docker build -t "$NODE_IMAGE" --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" \
    -f "$ROOT/ops/docker/node.Dockerfile" "$ctx"
}
if have_image "$NODE_IMAGE"; then
  log "$NODE_IMAGE present"
elif try_pull "$NODE_IMAGE"; then
  log "$NODE_IMAGE pulled"
else
  step "making $NODE_IMAGE locally (this machine's Node.js on $DEBIAN_IMAGE)" make_node
fi

# 5. the app --------------------------------------------------------------------------
stage_app() {
  npx tsc -p tsconfig.json
  local stage=dist/docker
  # production node_modules: copied and pruned in the stage (never in the
  # working tree), again only when the installed packages changed
  if [ ! -f "$stage/modules/.staged" ] || [ package-lock.json -nt "$stage/modules/.staged" ] ||
    [ node_modules/.package-lock.json -nt "$stage/modules/.staged" ]; then
    rm -rf "$stage/modules"
    mkdir -p "$stage/modules"
    cp package.json package-lock.json "$stage/modules/"
    cp -a node_modules "$stage/modules/"
    (cd "$stage/modules" && quietly npm prune --omit=dev --no-audit --no-fund --loglevel=error)
    rm "$stage/modules/package.json" "$stage/modules/package-lock.json"
    touch "$stage/modules/.staged"
    log "  staged production node_modules ($(du -sh "$stage/modules/node_modules" | cut -f1))"
  fi
  rm -rf "$stage/app"
  mkdir -p "$stage/app/dist"
  for d in dist/*/; do
    [ "$d" = "dist/docker/" ] || cp -a "$d" "$stage/app/dist/"
  done
  cp -a proto package.json "$stage/app/"
}
step "building the app on the host (tsc) and staging it in dist/docker/" stage_app
step "image paxlog-replica:latest (./Dockerfile on $NODE_IMAGE)" \
  quietly docker build -t paxlog-replica:latest --build-arg "BASE_IMAGE=$NODE_IMAGE" .
step "image paxlog-etcd:latest (ops/docker/etcd.Dockerfile on $DEBIAN_IMAGE)" \
  quietly docker build -t paxlog-etcd:latest --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" \
  -f ops/docker/etcd.Dockerfile ops/docker
log "images:"
for image in "$DEBIAN_IMAGE" "$NODE_IMAGE" paxlog-replica:latest paxlog-etcd:latest; do
  echo "  $image  $(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }')"
done
log "all done in $(elapsed "$T0") s; next: docker-compose up -d"
